import DataLoader from 'dataloader';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { DataSource } from 'typeorm';
import { SqlParameters } from '../../platform/database/sql';
import { BadUserInputError, ConflictError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { ChildPageLoader, connectionsByParent, decodeCursor, pageSize, type ChildPageRow, type Connection, type PageRequest } from '../../platform/pagination';
import type { OrganizationAccess } from '../organizations';
import type { CreateTaskInput, TaskFilter, TaskOrder, UpdateTaskInput } from './project.inputs';
import type { ProjectsService } from './projects.service';
import { afterCursorSql, orderBySql, sortKeySql, TASK_COLUMNS, taskFilterSql, taskOrdering, type TaskOrdering } from './task-pages';
import { TaskEntity, TaskStatus } from './task.entity';

type TaskRow = TaskEntity & { sortKey: string | number | null };

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
    const repository = this.dataSource.getRepository(TaskEntity);
    const task = repository.create({
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
    await repository.insert(task);
    return task;
  }

  /** One conditional UPDATE: a stale expectedVersion is CONFLICT and changes nothing; every update adds one to version. */
  async update(ctx: RequestContext, input: UpdateTaskInput): Promise<TaskEntity> {
    const task = await this.require(ctx, parseId(input.id, 'id'));
    await this.projects.requireWritableProject(ctx, task.projectId);
    if (input.assigneeId) await this.assertAssignable(task.organizationId, input.assigneeId);

    const changes: Record<string, unknown> = {};
    if (input.title != null) changes.title = input.title.trim();
    if (input.description !== undefined) changes.description = input.description?.trim() || null;
    if (input.status != null) changes.status = input.status;
    if (input.priority != null) changes.priority = input.priority;
    if (input.dueDate !== undefined) changes.dueDate = input.dueDate;
    if (input.assigneeId !== undefined) changes.assigneeId = input.assigneeId?.toLowerCase() ?? null;

    const query = this.dataSource
      .createQueryBuilder()
      .update(TaskEntity)
      .set({ ...changes, version: () => 'version + 1' })
      .where('id = :id', { id: task.id })
      .returning('id');
    if (input.expectedVersion != null) query.andWhere('version = :expected', { expected: input.expectedVersion });
    const result = await query.execute();
    if ((result.raw as unknown[]).length === 0) {
      throw new ConflictError(`The task has changed since version ${input.expectedVersion}; reload it and try again`);
    }
    const updated = await this.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: task.id });
    ctx.loaders.get(this.byId).clear(task.id).prime(task.id, updated);
    return updated;
  }

  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const task = await this.require(ctx, parseId(id, 'id'));
    await this.projects.requireWritableProject(ctx, task.projectId);
    const { affected } = await this.dataSource.getRepository(TaskEntity).delete(task.id);
    ctx.loaders.get(this.byId).clear(task.id);
    return (affected ?? 0) > 0;
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
