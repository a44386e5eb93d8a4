import type { DataSource, EntityManager } from 'typeorm';
import { BadUserInputError } from '../../platform/errors';
import { defineConsumer, type DomainEvent, type EventConsumer } from '../../platform/events/event';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/pagination';
import type { ProjectEvents, TasksService } from '../projects';
import type { NotificationEntity } from './notification.entity';

type NotificationRow = NotificationEntity & { createdAtKey: string; total: number };

const MAX_IDS = 100;

export class NotificationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tasks: TasksService,
  ) {}

  /**
   * `task.assigned` notifies the new assignee; `comment.added` the task's
   * assignee and creator; never the actor. Other modules' data is read
   * through their public services, before the transaction that writes.
   */
  consumer(): EventConsumer {
    return defineConsumer<ProjectEvents>('notifications', {
      'task.assigned': async (event, { transaction }) => {
        const message = `You were assigned the task "${event.data.title}"`;
        await transaction((manager) => this.notify(manager, event, [event.data.assigneeId], message, event.subject.id));
      },
      'comment.added': async (event, { transaction, logger }) => {
        const task = await this.tasks.participants(event.data.taskId);
        if (!task) {
          logger.info('the task is gone: nobody to notify of the comment');
          return;
        }
        const message = `New comment on the task "${task.title}"`;
        await transaction((manager) => this.notify(manager, event, [task.assigneeId, task.createdById], message, event.data.taskId));
      },
    });
  }

  /** The viewer's notifications, newest first, optionally only the unread. */
  async list(ctx: RequestContext, first?: number, after?: string | null, unreadOnly = false): Promise<Connection<NotificationEntity>> {
    const userId = requireUserId(ctx);
    const size = pageSize(first);
    const [afterKey, afterId] = after ? decodeCursor(after, ['timestamp', 'uuid']) : [null, null];
    const rows = (await this.dataSource.query(
      `WITH filtered AS (SELECT * FROM notifications WHERE user_id = $1 AND (NOT $2::boolean OR read_at IS NULL))
       SELECT id, user_id AS "userId", organization_id AS "organizationId", event_id AS "eventId", type, message, task_id AS "taskId",
              read_at AS "readAt", created_at AS "createdAt", created_at::text AS "createdAtKey", (SELECT count(*)::int FROM filtered) AS total
         FROM filtered
        WHERE $3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid)
        ORDER BY created_at DESC, id DESC
        LIMIT $5`,
      [userId, unreadOnly, afterKey, afterId, size + 1],
    )) as NotificationRow[];
    const total = rows[0]?.total ?? (after ? await this.count(userId, unreadOnly) : 0);
    return toConnection<NotificationRow>(rows, size, total, (row) => [row.createdAtKey, row.id]);
  }

  /** Marks the viewer's own unread notifications among `ids`; others' ids (and ones already read) are ignored. */
  async markRead(ctx: RequestContext, ids: string[]): Promise<number> {
    const userId = requireUserId(ctx);
    if (ids.length > MAX_IDS) throw BadUserInputError.field('ids', `ids takes at most ${MAX_IDS} ids at a time`);
    const parsed = ids.map((id) => parseId(id, 'ids'));
    const [marked] = (await this.dataSource.query(
      `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND id = ANY($2::uuid[]) AND read_at IS NULL RETURNING id`,
      [userId, parsed],
    )) as [unknown[], number];
    return marked.length;
  }

  private async notify(manager: EntityManager, event: DomainEvent, recipients: (string | null)[], message: string, taskId: string): Promise<void> {
    const users = [...new Set(recipients.filter((userId): userId is string => Boolean(userId) && userId !== event.actorId))];
    if (users.length === 0) return;
    await manager.query(
      `INSERT INTO notifications (user_id, organization_id, event_id, type, message, task_id)
       SELECT user_id, $2, $3, $4, $5, $6 FROM unnest($1::uuid[]) AS user_id
       ON CONFLICT (event_id, user_id) DO NOTHING`,
      [users, event.organizationId, event.id, event.type, message, taskId],
    );
  }

  private async count(userId: string, unreadOnly: boolean): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND (NOT $2::boolean OR read_at IS NULL)`,
      [userId, unreadOnly],
    )) as [{ n: number }];
    return row.n;
  }
}
