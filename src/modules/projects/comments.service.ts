import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { TypedPublisher } from '../../platform/events/outbox';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import {
  childPagesLoader,
  pageRequest,
  type Connection,
  type PageQuery,
  type PageRequest,
} from '../../platform/pagination';
import type { CommentEntity } from './comment.entity';
import { CommentsRepository } from './comments.repository';
import type { ProjectEvents } from './project.events';
import type { AddCommentInput } from './project.inputs';
import type { TasksService } from './tasks.service';

export class CommentsService {
  private readonly pages = childPagesLoader('comments.pages', (ids: readonly string[], page: PageRequest) =>
    this.uow.get(CommentsRepository).pages(ids, page),
  );

  constructor(
    private readonly uow: UnitOfWork,
    private readonly tasks: TasksService,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {}

  /**
   * Any member comments on a task of a project that is not archived. The
   * fast path is one statement: an INSERT that finds the task, checks the
   * membership and the project's status, holds both, and writes the outbox
   * row of `comment.added` beside the comment (no BEGIN, no COMMIT). Only
   * when it finds nothing are the usual checks asked why (NOT_FOUND,
   * FORBIDDEN, CONFLICT).
   */
  async add(ctx: RequestContext, input: AddCommentInput): Promise<CommentEntity> {
    const authorId = requireUserId(ctx);
    const taskId = parseId(input.taskId, 'taskId');
    const event = this.events.prepare(ctx, 'comment.added');
    const inserted = await event.write(() =>
      this.uow.get(CommentsRepository).insertOnWritableTask({ taskId, authorId, body: input.body.trim() }, event),
    );
    if (!inserted) return this.tasks.refuseWrite(ctx, taskId);
    const { projectId: _projectId, ...comment } = inserted;
    return comment;
  }

  /** The comments among `ids` that exist now, by id, in one statement: for the live feed, which reads for every subscriber at once. */
  async currentOf(ids: readonly string[]): Promise<Map<string, CommentEntity>> {
    if (ids.length === 0) return new Map();
    const rows = await this.uow.get(CommentsRepository).byIds(ids);
    return new Map(rows.flatMap((row) => (row ? [[row.id, row] as const] : [])));
  }

  /** Oldest first; the comments of every task in one response load in one statement. */
  page(ctx: RequestContext, taskId: string, args: PageQuery): Promise<Connection<CommentEntity>> {
    return ctx.loaders.get(this.pages).load(taskId, pageRequest(args, ['timestamp', 'uuid']));
  }
}
