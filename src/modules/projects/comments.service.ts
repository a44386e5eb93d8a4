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
   * fast path is four statements: BEGIN, one INSERT that finds the task,
   * checks the membership and the project's status and holds both, the
   * outbox row, COMMIT. Only when the INSERT finds nothing are the usual
   * checks asked why (NOT_FOUND, FORBIDDEN, CONFLICT).
   */
  async add(ctx: RequestContext, input: AddCommentInput): Promise<CommentEntity> {
    const authorId = requireUserId(ctx);
    const taskId = parseId(input.taskId, 'taskId');
    const comment = await this.uow.transaction(async (tx) => {
      const inserted = await tx
        .get(CommentsRepository)
        .insertOnWritableTask({ taskId, authorId, body: input.body.trim() });
      if (!inserted) return undefined;
      const { projectId, ...comment } = inserted;
      await this.events.publish(tx, ctx, {
        type: 'comment.added',
        organizationId: comment.organizationId,
        subject: { type: 'comment', id: comment.id },
        data: { taskId: comment.taskId, projectId, authorId, body: comment.body },
      });
      return comment;
    });
    return comment ?? this.tasks.refuseWrite(ctx, taskId);
  }

  /** Oldest first; the comments of every task in one response load in one statement. */
  page(ctx: RequestContext, taskId: string, args: PageQuery): Promise<Connection<CommentEntity>> {
    return ctx.loaders.get(this.pages).load(taskId, pageRequest(args, ['timestamp', 'uuid']));
  }
}
