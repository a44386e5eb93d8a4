import type { Clock } from '../../platform/clock';
import type { Transaction, UnitOfWork } from '../../platform/database/unit-of-work';
import { BadUserInputError } from '../../platform/errors';
import { defineBatchConsumer, type DomainEvent, type EventConsumer } from '../../platform/events/event';
import type { TypedPublisher } from '../../platform/events/outbox';
import { ANONYMOUS, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageArgs } from '../../platform/pagination';
import type { IdentityEvents } from '../identity';
import type { OrganizationAccess } from '../organizations';
import type { ProjectEvents, TasksService } from '../projects';
import { NotificationDigestsRepository } from './notification-digests.repository';
import type { NotificationEntity } from './notification.entity';
import { kindOf } from './notification-kinds';
import { NotificationMailPreferencesRepository } from './notification-mail-preferences.repository';
import type { NotificationEvents } from './notification.events';
import { NotificationsRepository, type NotificationRow, type WrittenNotification } from './notifications.repository';

const MAX_IDS = 100;

export class NotificationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tasks: TasksService,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<NotificationEvents>,
    private readonly clock: Clock,
    /** How long a digest collects from its first notification (NOTIFICATION_DIGEST_WINDOW). */
    private readonly digestWindowMs: number,
  ) {}

  /**
   * `task.assigned` notifies the new assignee; `comment.added` the task's
   * assignee and creator; never the actor, nor anyone who is no longer a
   * member of the organization. Events come in batches: the tasks and the
   * memberships of a whole batch are read in one statement each, through the
   * other modules' public services (never their tables), before the
   * transaction that writes every notification of the batch at once.
   * Each notification written whose recipient wants its type mailed joins
   * their OPEN digest (opened, due a window later, by the first), in the same
   * transaction: the digest sender only sees it once that has committed.
   * `user.deleted` deletes every notification addressed to the user, and their digests and mail preferences, in the
   * same transaction, after the batch's inserts; none is written for them later, since they left every organization
   * in the transaction that published it.
   * Each notification written raises notification.created in the same transaction (its recipient's live feed).
   */
  consumer(): EventConsumer {
    return defineBatchConsumer<ProjectEvents & IdentityEvents, 'task.assigned' | 'comment.added' | 'user.deleted'>(
      'notifications',
      ['task.assigned', 'comment.added', 'user.deleted'],
      async (events, ctx) => {
        const deleted = events.filter((event) => event.type === 'user.deleted');
        const commented = events.flatMap((event) => (event.type === 'comment.added' ? [event.data.taskId] : []));
        const tasks = await this.tasks.participantsOf([...new Set(commented)]);
        const drafts: {
          event: DomainEvent;
          organizationId: string;
          candidates: string[];
          message: string;
          taskId: string;
        }[] = [];
        for (const event of events) {
          if (event.type === 'user.deleted') continue;
          const { organizationId } = event;
          if (!organizationId) {
            ctx.logger.info('the event names no organization: nobody to notify', { eventId: event.id });
            continue;
          }
          let recipients: (string | null)[];
          let message: string;
          let taskId: string;
          if (event.type === 'task.assigned') {
            recipients = [event.data.assigneeId];
            message = `You were assigned the task "${event.data.title}"`;
            taskId = event.subject.id;
          } else {
            const task = tasks.get(event.data.taskId);
            if (!task) {
              ctx.logger.info('the task is gone: nobody to notify of the comment', { eventId: event.id });
              continue;
            }
            recipients = [task.assigneeId, task.createdById];
            message = `New comment on the task "${task.title}"`;
            taskId = event.data.taskId;
          }
          const candidates = [
            ...new Set(recipients.filter((userId): userId is string => Boolean(userId) && userId !== event.actorId)),
          ];
          if (candidates.length > 0) drafts.push({ event, organizationId, candidates, message, taskId });
        }
        const members = await this.access.membersAmong(
          drafts.flatMap(({ organizationId, candidates }) => candidates.map((userId) => ({ organizationId, userId }))),
        );
        const rows: NotificationRow[] = drafts.flatMap(({ event, organizationId, candidates, message, taskId }) =>
          candidates
            .filter((userId) => members.has(`${organizationId}/${userId}`))
            .map((userId) => ({ userId, organizationId, eventId: event.id, type: event.type, message, taskId })),
        );
        if (rows.length === 0 && deleted.length === 0) return;
        await ctx.transaction(async (tx, fresh) => {
          const freshIds = new Set(fresh.map((event) => event.id));
          const notifications = tx.get(NotificationsRepository);
          const digests = tx.get(NotificationDigestsRepository);
          const preferences = tx.get(NotificationMailPreferencesRepository);
          const written = await notifications.insert(rows.filter((row) => freshIds.has(row.eventId)));
          const mailed = written.filter((row) => row.mailChoice ?? kindOf(row.type)?.mailByDefault ?? false);
          await digests.queue(mailed, new Date(this.clock.now().getTime() + this.digestWindowMs));
          await this.publishCreated(tx, written, events);
          const gone = deleted.filter((event) => freshIds.has(event.id)).map((event) => event.data.userId);
          await notifications.deleteAllOf(gone);
          await digests.deleteAllOf(gone);
          await preferences.deleteAllOf(gone);
        });
      },
    );
  }

  /** One notification.created per notification written, in the same transaction: each recipient's live feed. */
  private async publishCreated(
    tx: Transaction,
    written: readonly WrittenNotification[],
    causesOf: readonly DomainEvent[],
  ): Promise<void> {
    const causes = new Map(causesOf.map((event) => [event.id, event]));
    await this.events.publishAll(
      tx,
      written.map((notification) => {
        const cause = causes.get(notification.eventId)!;
        return {
          origin: {
            requestId: cause.requestId ?? `event:${cause.id}`,
            viewer: cause.actorId ? { kind: 'user' as const, userId: cause.actorId } : ANONYMOUS,
          },
          draft: {
            type: 'notification.created' as const,
            organizationId: notification.organizationId,
            subject: { type: 'notification', id: notification.id },
            data: {
              recipientId: notification.userId,
              type: notification.type,
              message: notification.message,
              taskId: notification.taskId,
              createdAt: new Date(notification.createdAt).toISOString(),
            },
          },
        };
      }),
    );
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
}
