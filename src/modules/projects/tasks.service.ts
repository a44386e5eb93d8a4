import DataLoader from 'dataloader';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { DataSource } from 'typeorm';
import type { TypedPublisher } from '../../platform/events/outbox';
import { SqlParameters } from '../../platform/database/sql';
import { BadUserInputError, ConflictError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { ChildPageLoader, connectionsByParent, decodeCursor, pageSize, type ChildPageRow, type Connection, type PageRequest } from '../../platform/pagination';
import type { OrganizationAccess } from '../organizations';
import type { Change, ProjectEvents } from './project.events';
import type { CreateTaskInput, TaskFilter, TaskOrder, UpdateTaskInput } from './project.inputs';
import type { ProjectsService } from './projects.service';
import { afterCursorSql, orderBySql, sortKeySql, TASK_COLUMNS, taskFilterSql, taskOrdering, type TaskOrdering } from './task-pages';
import { TaskEntity, TaskStatus } from './task.entity';

type TaskRow = TaskEntity & { sortKey: string | number | null };

type ChangeableField = 'title' | 'description' | 'status' | 'priority' | 'dueDate' | 'assigneeId';

/** The fields that really changed, as JSON-friendly before/after pairs. */
function taskChanges(before: TaskEntity, after: TaskEntity, fields: ChangeableField[]): Record<string, Change<unknown>> {
  const plain = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
  const changes: Record<string, Change<unknown>> = {};
  for (const field of fields) {
    const [from, to] = [plain(before[field]), plain(after[field])];
    if (from !== to) changes[field] = { from, to };
  }
  return changes;
}

interface TaskPageRequest extends PageRequest {
  ordering: TaskOrdering;
  filter?: TaskFilter | null;
}

export class TasksService {
  private readonly byId: LoaderKey<DataLoader<string, TaskEntity | undefined>>;
  private readonly pages: LoaderKey<ChildPageLoader<string, TaskRow>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly projects: ProjectsService,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {
    this.byId = new LoaderKey('tasks.byId', () => new DataLoader((ids: readonly string[]) => loadByIds(this.dataSource, TaskEntity, ids)));
    this.pages = new LoaderKey('tasks.pages', () => new ChildPageLoader((ids, page) => this.loadPages(ids, page as TaskPageRequest)));
  }

  /** NOT_FOUND, the same for absent and hidden, unless the viewer is a member of the task's organization. */
  async require(ctx: RequestContext, id: string): Promise<TaskEntity> {
    requireUserId(ctx);
    const task = await this.findById(ctx, id);
    if (!task || !(await this.access.viewerMembership(ctx, task.organizationId))) throw new NotFoundError('Task');
    return task;
  }

  get(ctx: RequestContext, id: string): Promise<TaskEntity> {
    return this.require(ctx, parseId(id, 'id'));
  }

  findById(ctx: RequestContext, id: string): Promise<TaskEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  /** Who a task concerns, without authorization: for event handlers, which act for no viewer. */
  async participants(taskId: string): Promise<Pick<TaskEntity, 'title' | 'assigneeId' | 'createdById' | 'organizationId'> | undefined> {
    const task = await this.dataSource.getRepository(TaskEntity).findOne({
      where: { id: taskId },
      select: { title: true, assigneeId: true, createdById: true, organizationId: true },
    });
    return task ?? undefined;
  }

  /** A page of a project's tasks; the tasks of every project in one response load in one statement per page shape. */
  page(
    ctx: RequestContext,
    projectId: string,
    args: { first?: number; after?: string | null; filter?: TaskFilter | null; orderBy?: TaskOrder | null },
  ): Promise<Connection<TaskEntity>> {
    const ordering = taskOrdering(args.orderBy);
    const page: TaskPageRequest = {
      size: pageSize(args.first),
      after: args.after ? decodeCursor(args.after, ordering.kinds) : undefined,
      ordering,
      filter: args.filter,
    };
    return ctx.loaders.get(this.pages).load(projectId, page);
  }

  async create(ctx: RequestContext, input: CreateTaskInput): Promise<TaskEntity> {
    const userId = requireUserId(ctx);
    const project = await this.projects.requireWritableProject(ctx, parseId(input.projectId, 'projectId'));
    if (input.assigneeId) await this.assertAssignable(project.organizationId, input.assigneeId);
    return this.dataSource.transaction(async (manager) => {
      const task = manager.create(TaskEntity, {
        projectId: project.id,
        organizationId: project.organizationId,
        title: input.title.trim(),
        description: input.description?.trim() || null,
        status: TaskStatus.TODO,
        priority: input.priority ?? 0,
        dueDate: input.dueDate ?? null,
        assigneeId: input.assigneeId?.toLowerCase() ?? null,
        createdById: userId,
      });
      await manager.insert(TaskEntity, task);
      const subject = { type: 'task', id: task.id };
      await this.events.publish(manager, ctx, {
        type: 'task.created',
        organizationId: task.organizationId,
        subject,
        data: {
          projectId: task.projectId,
          title: task.title,
          status: task.status,
          priority: task.priority,
          dueDate: task.dueDate?.toISOString() ?? null,
          assigneeId: task.assigneeId,
        },
      });
      if (task.assigneeId) {
        await this.events.publish(manager, ctx, {
          type: 'task.assigned',
          organizationId: task.organizationId,
          subject,
          data: { projectId: task.projectId, title: task.title, assigneeId: task.assigneeId, previousAssigneeId: null },
        });
      }
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
    await this.projects.requireWritableProject(ctx, task.projectId);
    if (input.assigneeId) await this.assertAssignable(task.organizationId, input.assigneeId);

    const wanted: Partial<Pick<TaskEntity, ChangeableField>> = {};
    if (input.title != null) wanted.title = input.title.trim();
    if (input.description !== undefined) wanted.description = input.description?.trim() || null;
    if (input.status != null) wanted.status = input.status;
    if (input.priority != null) wanted.priority = input.priority;
    if (input.dueDate !== undefined) wanted.dueDate = input.dueDate;
    if (input.assigneeId !== undefined) wanted.assigneeId = input.assigneeId?.toLowerCase() ?? null;

    const updated = await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(TaskEntity, { where: { id: task.id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw new NotFoundError('Task');
      if (input.expectedVersion != null && current.version !== input.expectedVersion) {
        throw new ConflictError(`The task has changed since version ${input.expectedVersion}; reload it and try again`);
      }
      await manager.update(TaskEntity, current.id, { ...wanted, version: () => 'version + 1' });
      const saved = await manager.findOneByOrFail(TaskEntity, { id: current.id });
      const subject = { type: 'task', id: saved.id };
      await this.events.publish(manager, ctx, {
        type: 'task.updated',
        organizationId: saved.organizationId,
        subject,
        data: { projectId: saved.projectId, version: saved.version, changes: taskChanges(current, saved, Object.keys(wanted) as ChangeableField[]) },
      });
      if (saved.assigneeId && saved.assigneeId !== current.assigneeId) {
        await this.events.publish(manager, ctx, {
          type: 'task.assigned',
          organizationId: saved.organizationId,
          subject,
          data: { projectId: saved.projectId, title: saved.title, assigneeId: saved.assigneeId, previousAssigneeId: current.assigneeId },
        });
      }
      return saved;
    });
    ctx.loaders.get(this.byId).clear(task.id).prime(task.id, updated);
    return updated;
  }

  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const task = await this.require(ctx, parseId(id, 'id'));
    await this.projects.requireWritableProject(ctx, task.projectId);
    const deleted = await this.dataSource.transaction(async (manager) => {
      const { affected } = await manager.delete(TaskEntity, task.id);
      if (!affected) return false;
      await this.events.publish(manager, ctx, {
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

  private async assertAssignable(organizationId: string, assigneeId: string): Promise<void> {
    if (!(await this.access.isMember(organizationId, assigneeId.toLowerCase()))) {
      throw BadUserInputError.field('assigneeId', 'assigneeId must be a member of the project’s organization');
    }
  }


  private async loadPages(projectIds: readonly string[], page: TaskPageRequest): Promise<Connection<TaskRow>[]> {
    const params = new SqlParameters();
    const parents = params.add(projectIds, '::uuid[]');
    const filters = taskFilterSql(page.filter, params);
    const after = afterCursorSql(page.ordering, page, params);
    const limit = params.add(page.size + 1, '::int');
    const filtered = ['t.project_id = p.id', ...filters].join(' AND ');
    const rows = (await this.dataSource.query(
      `SELECT p.id AS "parentId", counts.total, page.*
         FROM unnest(${parents}) AS p(id)
        CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM tasks t WHERE ${filtered}) counts
         LEFT JOIN LATERAL (
              SELECT ${TASK_COLUMNS}, ${sortKeySql(page.ordering)} AS "sortKey"
                FROM tasks t
               WHERE ${[filtered, after].filter(Boolean).join(' AND ')}
               ORDER BY ${orderBySql(page.ordering)}
               LIMIT ${limit}) page ON true`,
      params.values,
    )) as ChildPageRow<TaskRow>[];
    return connectionsByParent(projectIds, rows, page.size, (row) => [row.sortKey, row.id]);
  }
}
