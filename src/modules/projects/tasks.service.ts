import DataLoader from 'dataloader';
import { byIdLoader } from '../../platform/database/load-by-ids';
import type { Transaction, UnitOfWork } from '../../platform/database/unit-of-work';
import { changesBetween, plain } from '../../platform/events/changes';
import type { TypedPublisher } from '../../platform/events/outbox';
import { BadUserInputError, ConflictError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { childPagesLoader, pageRequest, type Connection, type PageQuery } from '../../platform/pagination';
import type { IdentityService } from '../identity';
import type { OrganizationAccess } from '../organizations';
import type { ProjectEvents, TaskSnapshot } from './project.events';
import type { CreateTaskInput, TaskFilter, TaskOrder, UpdateTaskInput } from './project.inputs';
import type { ProjectsService } from './projects.service';
import { TaskStatus, type TaskEntity } from './task.entity';
import type { TaskFilterExtensions } from './task-filters';
import { taskOrder, TasksRepository, type TaskPageRequest } from './tasks.repository';

/** What task.created tells of a new task: its columns but the bookkeeping ones, as JSON; a new column travels without an edit here. */
function snapshot(task: TaskEntity): TaskSnapshot {
  const {
    id: _id,
    organizationId: _organizationId,
    createdById: _createdById,
    version: _version,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    project: _project,
    ...fields
  } = task;
  return Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, plain(value)])) as TaskSnapshot;
}

export class TasksService {
  private readonly byId = byIdLoader('tasks.byId', (ids) => this.uow.get(TasksRepository).byIds(ids));
  // Not cached (a write in the request would leave it stale); what it finds primes byId.
  private readonly visibleById = new LoaderKey(
    'tasks.visibleById',
    (viewer) =>
      new DataLoader(
        (ids: readonly string[]) => this.uow.get(TasksRepository).visibleByIds(ids, requireUserId({ viewer })),
        { cache: false },
      ),
  );
  private readonly visibleWithAssigneeById = new LoaderKey(
    'tasks.visibleWithAssigneeById',
    (viewer) =>
      new DataLoader(
        (ids: readonly string[]) =>
          this.uow.get(TasksRepository).visibleWithAssigneesByIds(ids, requireUserId({ viewer })),
        { cache: false },
      ),
  );
  private readonly pages = childPagesLoader('tasks.pages', (ids: readonly string[], page: TaskPageRequest) =>
    this.uow.get(TasksRepository).pages(ids, page, this.filters),
  );

  constructor(
    private readonly uow: UnitOfWork,
    private readonly projects: ProjectsService,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<ProjectEvents>,
    private readonly filters: TaskFilterExtensions,
    private readonly identity: IdentityService,
  ) {}

  /**
   * NOT_FOUND, the same for absent and hidden, unless the viewer is a member
   * of the task's organization: one statement reads the row and checks the
   * membership (what access.requireVisible decides for the MEMBER role).
   */
  async require(ctx: RequestContext, id: string): Promise<TaskEntity> {
    requireUserId(ctx);
    return this.found(ctx, id, await ctx.loaders.get(this.visibleById).load(id));
  }

  /**
   * The task query's read (NOT_FOUND as require). `withAssignee` (the query
   * selects `assignee`): the assignee comes in the same statement and the
   * request's user loader keeps them, so `Task.assignee` needs no statement.
   */
  async get(ctx: RequestContext, id: string, { withAssignee = false } = {}): Promise<TaskEntity> {
    const taskId = parseId(id, 'id');
    if (!withAssignee) return this.require(ctx, taskId);
    requireUserId(ctx);
    const read = await ctx.loaders.get(this.visibleWithAssigneeById).load(taskId);
    if (read?.assignee) this.identity.keep(ctx, [read.assignee]);
    return this.found(ctx, taskId, read?.task);
  }

  private found(ctx: RequestContext, id: string, task: TaskEntity | undefined): TaskEntity {
    if (!task) throw new NotFoundError('Task');
    ctx.loaders.get(this.byId).prime(id, task);
    return task;
  }

  /**
   * Inside the transaction of a write that refers to the task (a comment, a
   * label): the task is held against deletion and its project against
   * archiving until the write commits. NOT_FOUND when it is gone, CONFLICT
   * when its project is archived.
   */
  async holdForWrite(tx: Transaction, task: Pick<TaskEntity, 'id' | 'projectId'>): Promise<void> {
    if (!(await tx.get(TasksRepository).lockShared(task.id))) throw new NotFoundError('Task');
    await this.projects.assertWritable(tx, task.projectId);
  }

  /**
   * Why a write that refers to the task (a comment) and checks access in its
   * own statement found nothing: NOT_FOUND (absent or hidden), FORBIDDEN,
   * CONFLICT when its project is archived; NOT_FOUND when it went away
   * meanwhile. Off the fast path: it reads what the statement had folded in.
   */
  async refuseWrite(ctx: RequestContext, taskId: string): Promise<never> {
    const task = await this.require(ctx, taskId);
    await this.projects.requireWritable(ctx, task.projectId);
    throw new NotFoundError('Task');
  }

  findById(ctx: RequestContext, id: string): Promise<TaskEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  /** Who the tasks concern, without authorization (for event handlers, which act for no viewer): one statement, by task id; a task that is gone is absent. */
  participantsOf(
    taskIds: readonly string[],
  ): Promise<Map<string, Pick<TaskEntity, 'id' | 'title' | 'assigneeId' | 'createdById' | 'organizationId'>>> {
    return this.uow.get(TasksRepository).participantsOf(taskIds);
  }

  /** The tasks among `ids` that exist now, by id, in one statement: for the live feed, which reads for every subscriber at once. */
  async currentOf(ids: readonly string[]): Promise<Map<string, TaskEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await this.uow.get(TasksRepository).byIds(ids);
    return new Map(rows.flatMap((row) => (row ? [[row.id, row] as const] : [])));
  }

  /** A page of a project's tasks; the tasks of every project in one response load in one statement per page shape. */
  page(
    ctx: RequestContext,
    projectId: string,
    args: PageQuery & { filter?: TaskFilter | null; orderBy?: TaskOrder | null },
  ): Promise<Connection<TaskEntity>> {
    const order = taskOrder(args.orderBy);
    const page: TaskPageRequest = { ...pageRequest(args, [order.kind, 'uuid']), order, filter: args.filter };
    return ctx.loaders.get(this.pages).load(projectId, page);
  }

  async create(ctx: RequestContext, input: CreateTaskInput): Promise<TaskEntity> {
    const userId = requireUserId(ctx);
    const project = await this.projects.requireProject(ctx, parseId(input.projectId, 'projectId'));
    const values = this.uow.get(TasksRepository).valuesOf(input);
    if (values.assigneeId) await this.assertAssignable(project.organizationId, values.assigneeId);
    return this.uow.transaction(async (tx) => {
      await this.projects.assertWritable(tx, project.id);
      const task = await tx.get(TasksRepository).insert({
        ...values,
        projectId: project.id,
        organizationId: project.organizationId,
        status: TaskStatus.TODO,
        createdById: userId,
      });
      await this.events.publish(tx, ctx, {
        type: 'task.created',
        organizationId: task.organizationId,
        subject: { type: 'task', id: task.id },
        data: snapshot(task),
      });
      if (task.assigneeId) await this.publishAssigned(tx, ctx, task, null);
      return task;
    });
  }

  /**
   * The row is locked, its version checked (a stale expectedVersion is
   * CONFLICT and changes nothing), the changes applied with version + 1, and
   * task.updated (and task.assigned for a new assignee) published, in one transaction.
   */
  async update(ctx: RequestContext, input: UpdateTaskInput): Promise<TaskEntity> {
    const task = await this.require(ctx, parseId(input.id, 'id'));
    const wanted = this.uow.get(TasksRepository).valuesOf(input);
    if (wanted.assigneeId) await this.assertAssignable(task.organizationId, wanted.assigneeId);

    const updated = await this.uow.transaction(async (tx) => {
      await this.projects.assertWritable(tx, task.projectId);
      const tasks = tx.get(TasksRepository);
      const current = await tasks.lockForUpdate(task.id);
      if (!current) throw new NotFoundError('Task');
      if (input.expectedVersion != null && current.version !== input.expectedVersion) {
        throw new ConflictError(`The task has changed since version ${input.expectedVersion}; reload it and try again`);
      }
      const saved = await tasks.update(current.id, wanted);
      const changes = changesBetween(current, saved, Object.keys(wanted) as (keyof TaskEntity)[]);
      await this.events.publish(tx, ctx, {
        type: 'task.updated',
        organizationId: saved.organizationId,
        subject: { type: 'task', id: saved.id },
        data: { projectId: saved.projectId, version: saved.version, changes },
      });
      if (saved.assigneeId && saved.assigneeId !== current.assigneeId)
        await this.publishAssigned(tx, ctx, saved, current.assigneeId);
      return saved;
    });
    ctx.loaders.get(this.byId).clear(task.id).prime(task.id, updated);
    return updated;
  }

  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const task = await this.require(ctx, parseId(id, 'id'));
    const deleted = await this.uow.transaction(async (tx) => {
      await this.projects.assertWritable(tx, task.projectId);
      if (!(await tx.get(TasksRepository).delete(task.id))) return false;
      await this.events.publish(tx, ctx, {
        type: 'task.deleted',
        organizationId: task.organizationId,
        subject: { type: 'task', id: task.id },
        data: { projectId: task.projectId, title: task.title },
      });
      return true;
    });
    ctx.loaders.get(this.byId).clear(task.id);
    return deleted;
  }

  private publishAssigned(tx: Transaction, ctx: RequestContext, task: TaskEntity, previousAssigneeId: string | null) {
    return this.events.publish(tx, ctx, {
      type: 'task.assigned',
      organizationId: task.organizationId,
      subject: { type: 'task', id: task.id },
      data: { projectId: task.projectId, title: task.title, assigneeId: task.assigneeId!, previousAssigneeId },
    });
  }

  private async assertAssignable(organizationId: string, assigneeId: string): Promise<void> {
    if (!(await this.access.isMember(organizationId, assigneeId))) {
      throw BadUserInputError.field('assigneeId', 'assigneeId must be a member of the project’s organization');
    }
  }
}
