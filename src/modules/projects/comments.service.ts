import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { TypedPublisher } from '../../platform/events/outbox';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { childPagesLoader, pageRequest, type Connection, type PageArgs, type PageRequest } from '../../platform/pagination';
import type { CommentEntity } from './comment.entity';
import { CommentsRepository } from './comments.repository';
import type { ProjectEvents } from './project.events';
import type { AddCommentInput } from './project.inputs';
import type { TasksService } from './tasks.service';

export class CommentsService {
  private readonly pages = childPagesLoader('comments.pages', (ids: readonly string[], page: PageRequest) => this.uow.get(CommentsRepository).pages(ids, page));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly tasks: TasksService,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {}

  /** Any member comments on a task of a project that is not archived. */
  async add(ctx: RequestContext, input: AddCommentInput): Promise<CommentEntity> {
    const authorId = requireUserId(ctx);
    const task = await this.tasks.require(ctx, parseId(input.taskId, 'taskId'));
    return this.uow.transaction(async (tx) => {
      await this.tasks.holdForWrite(tx, task);
      const comment = await tx.get(CommentsRepository).insert({ taskId: task.id, organizationId: task.organizationId, authorId, body: input.body.trim() });
      await this.events.publish(tx, ctx, {
        type: 'comment.added',
        organizationId: comment.organizationId,
        subject: { type: 'comment', id: comment.id },
        data: { taskId: task.id, projectId: task.projectId, authorId, body: comment.body },
      });
      return comment;
    });
  }

  /** Oldest first; the comments of every task in one response load in one statement. */
  page(ctx: RequestContext, taskId: string, args: PageArgs): Promise<Connection<CommentEntity>> {
    return ctx.loaders.get(this.pages).load(taskId, pageRequest(args, ['timestamp', 'uuid']));
  }
}
