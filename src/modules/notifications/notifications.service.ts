import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { BadUserInputError } from '../../platform/errors';
import { defineConsumer, type DomainEvent, type EventConsumer, type HandlerContext } from '../../platform/events/event';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageArgs } from '../../platform/pagination';
import type { OrganizationAccess } from '../organizations';
import type { ProjectEvents, TasksService } from '../projects';
import type { NotificationEntity } from './notification.entity';
import { NotificationsRepository } from './notifications.repository';

const MAX_IDS = 100;

export class NotificationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tasks: TasksService,
    private readonly access: OrganizationAccess,
  ) {}

  /**
   * `task.assigned` notifies the new assignee; `comment.added` the task's
   * assignee and creator; never the actor, nor anyone who is no longer a
   * member of the organization. Other modules' data is read
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

  /** The viewer's notifications from the organizations they are a member of now, newest first, optionally only the unread. */
  async list(ctx: RequestContext, args: PageArgs, unreadOnly = false): Promise<Connection<NotificationEntity>> {
    const userId = requireUserId(ctx);
    const request = pageRequest(args, ['timestamp', 'uuid']);
    const notifications = this.uow.get(NotificationsRepository);
    const organizationIds = await this.stillMemberOf(ctx, await notifications.organizationsOf(userId));
    const [page] = await notifications.pages([userId], request, { organizationIds, unreadOnly });
    return page;
  }

  /** Marks the viewer's own unread notifications among `ids`; others' ids, ones already read and ones of a left organization are ignored. */
  async markRead(ctx: RequestContext, ids: string[]): Promise<number> {
    const userId = requireUserId(ctx);
    if (ids.length > MAX_IDS) throw BadUserInputError.field('ids', `ids takes at most ${MAX_IDS} ids at a time`);
    const parsed = ids.map((id) => parseId(id, 'ids'));
    if (parsed.length === 0) return 0;
    const notifications = this.uow.get(NotificationsRepository);
    const organizationIds = await this.stillMemberOf(ctx, await notifications.organizationsOf(userId, parsed));
    return notifications.markRead(userId, parsed, organizationIds);
  }

  /**
   * Those of `organizationIds` the viewer is a member of now (one statement, through access's per-request loader).
   * Checked at read time, not by deleting on member.removed: a notification handled after the removal cannot slip through.
   */
  private async stillMemberOf(ctx: RequestContext, organizationIds: string[]): Promise<string[]> {
    const memberships = await Promise.all(organizationIds.map((id) => this.access.viewerMembership(ctx, id)));
    return organizationIds.filter((_, index) => memberships[index] !== undefined);
  }

  /** Writes with the event's "handled" record; recipients are deduplicated, the actor and those no longer members left out. */
  private async notify(ctx: HandlerContext, event: DomainEvent, recipients: (string | null)[], message: string, taskId: string): Promise<void> {
    const candidates = [...new Set(recipients.filter((userId): userId is string => Boolean(userId) && userId !== event.actorId))];
    const organizationId = event.organizationId;
    if (!organizationId) {
      ctx.logger.info('the event names no organization: nobody to notify');
      return;
    }
    const members = await Promise.all(candidates.map((userId) => this.access.isMember(organizationId, userId)));
    const users = candidates.filter((_, index) => members[index]);
    if (users.length === 0) return;
    const draft = { organizationId, eventId: event.id, type: event.type, message, taskId };
    await ctx.transaction((tx) => tx.get(NotificationsRepository).insertFor(users, draft));
  }
}
