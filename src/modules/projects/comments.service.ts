import type { DataSource } from 'typeorm';
import type { TypedPublisher } from '../../platform/events/outbox';
import { requireUserId, LoaderKey, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { ChildPageLoader, connectionsByParent, decodeCursor, pageSize, type ChildPageRow, type Connection, type PageRequest } from '../../platform/pagination';
import { CommentEntity } from './comment.entity';
import type { ProjectEvents } from './project.events';
import type { AddCommentInput } from './project.inputs';
import type { ProjectsService } from './projects.service';
import type { TasksService } from './tasks.service';

type CommentRow = CommentEntity & { createdAtKey: string };

export class CommentsService {
  private readonly pages: LoaderKey<ChildPageLoader<string, CommentRow>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly tasks: TasksService,
    private readonly projects: ProjectsService,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {
    this.pages = new LoaderKey('comments.pages', () => new ChildPageLoader((ids, page) => this.loadPages(ids, page)));
  }

  /** Any member comments on a task of a project that is not archived. */
  async add(ctx: RequestContext, input: AddCommentInput): Promise<CommentEntity> {
    const authorId = requireUserId(ctx);
    const task = await this.tasks.require(ctx, parseId(input.taskId, 'taskId'));
    await this.projects.requireWritableProject(ctx, task.projectId);
    return this.dataSource.transaction(async (manager) => {
      const comment = manager.create(CommentEntity, { taskId: task.id, organizationId: task.organizationId, authorId, body: input.body.trim() });
      // insert, not save: one INSERT ... RETURNING fills id and createdAt.
      await manager.insert(CommentEntity, comment);
      await this.events.publish(manager, ctx, {
        type: 'comment.added',
        organizationId: comment.organizationId,
        subject: { type: 'comment', id: comment.id },
        data: { taskId: task.id, projectId: task.projectId, authorId, body: comment.body },
      });
      return comment;
    });
  }

  /** Oldest first; the comments of every task in one response load in one statement. */
  page(ctx: RequestContext, taskId: string, first?: number, after?: string | null): Promise<Connection<CommentEntity>> {
    const page = { size: pageSize(first), after: after ? decodeCursor(after, ['timestamp', 'uuid']) : undefined };
    return ctx.loaders.get(this.pages).load(taskId, page);
  }

  private async loadPages(taskIds: readonly string[], page: PageRequest): Promise<Connection<CommentRow>[]> {
    const [afterKey, afterId] = page.after ?? [null, null];
    const rows = (await this.dataSource.query(
      `SELECT t.id AS "parentId", counts.total, c.*
         FROM unnest($1::uuid[]) AS t(id)
        CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM comments WHERE task_id = t.id) counts
         LEFT JOIN LATERAL (
              SELECT id, task_id AS "taskId", organization_id AS "organizationId", author_id AS "authorId", body,
                     created_at AS "createdAt", created_at::text AS "createdAtKey"
                FROM comments
               WHERE task_id = t.id AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
               ORDER BY created_at, id
               LIMIT $4) c ON true`,
      [taskIds, afterKey, afterId, page.size + 1],
    )) as ChildPageRow<CommentRow>[];
    return connectionsByParent(taskIds, rows, page.size, (row) => [row.createdAtKey, row.id]);
  }
}
