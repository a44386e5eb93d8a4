import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { BadUserInputError } from '../../platform/errors';
import { defineConsumer, type DomainEvent, type EventConsumer, type HandlerContext } from '../../platform/events/event';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageArgs } from '../../platform/pagination';
import type { ProjectEvents, TasksService } from '../projects';
import type { NotificationEntity } from './notification.entity';
import { NotificationsRepository } from './notifications.repository';

const MAX_IDS = 100;

export class NotificationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tasks: TasksService,
  ) {}

  /**
   * `task.assigned` notifies the new assignee; `comment.added` the task's
   * assignee and creator; never the actor. Other modules' data is read
   * through their public services, before the transaction that writes.
   */
  consumer(): EventConsumer {
    return defineConsumer<ProjectEvents>('notifications', {
      'task.assigned': async (event, ctx) => {
        await this.notify(ctx, event, [event.data.assigneeId], `You were assigned the task "${event.data.title}"`, event.subject.id);
      },
      'comment.added': async (event, ctx) => {
        const task = await this.tasks.participants(event.data.taskId);
        if (!task) {
          ctx.logger.info('the task is gone: nobody to notify of the comment');
          return;
        }
        await this.notify(ctx, event, [task.assigneeId, task.createdById], `New comment on the task "${task.title}"`, event.data.taskId);
      },
    });
  }

  /** The viewer's notifications, newest first, optionally only the unread. */
  async list(ctx: RequestContext, args: PageArgs, unreadOnly = false): Promise<Connection<NotificationEntity>> {
    const userId = requireUserId(ctx);
    const [page] = await this.uow.get(NotificationsRepository).pages([userId], pageRequest(args, ['timestamp', 'uuid']), unreadOnly);
    return page;
  }

  /** Marks the viewer's own unread notifications among `ids`; others' ids (and ones already read) are ignored. */
  async markRead(ctx: RequestContext, ids: string[]): Promise<number> {
    const userId = requireUserId(ctx);
    if (ids.length > MAX_IDS) throw BadUserInputError.field('ids', `ids takes at most ${MAX_IDS} ids at a time`);
    const parsed = ids.map((id) => parseId(id, 'ids'));
    return this.uow.get(NotificationsRepository).markRead(userId, parsed);
  }

  /** Writes with the event's "handled" record; recipients are deduplicated and the actor left out. */
  private async notify(ctx: HandlerContext, event: DomainEvent, recipients: (string | null)[], message: string, taskId: string): Promise<void> {
    const users = [...new Set(recipients.filter((userId): userId is string => Boolean(userId) && userId !== event.actorId))];
    if (users.length === 0) return;
    const draft = { organizationId: event.organizationId, eventId: event.id, type: event.type, message, taskId };
    await ctx.transaction((tx) => tx.get(NotificationsRepository).insertFor(users, draft));
  }
}
