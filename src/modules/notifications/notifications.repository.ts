import type { EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { Connection, PageRequest } from '../../platform/pagination';
import { NotificationEntity } from './notification.entity';

/** One notification to write: its recipient, what it says, and what caused it. */
export interface NotificationRow {
  userId: string;
  organizationId: string;
  eventId: string;
  type: string;
  message: string;
  taskId: string;
}

/** A notification just written, and whether its recipient chose mail for its type (null: they did not say). */
export interface WrittenNotification extends NotificationEntity {
  mailChoice: boolean | null;
}

/** Every statement about notifications. */
export class NotificationsRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Many notifications in one statement; a recipient already notified of an event is skipped, so a redelivery adds
   * nothing. Answers those written, each with its recipient's stored mail choice for its type (null: none stored).
   */
  async insert(rows: readonly NotificationRow[]): Promise<WrittenNotification[]> {
    if (rows.length === 0) return [];
    return (await this.manager.query(
      `INSERT INTO notifications (user_id, organization_id, event_id, type, message, task_id)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[])
       ON CONFLICT (event_id, user_id) DO NOTHING
       RETURNING id, user_id AS "userId", organization_id AS "organizationId", event_id AS "eventId", type, message,
                 task_id AS "taskId", read_at AS "readAt", created_at AS "createdAt",
                 (SELECT p.mail FROM notification_mail_preferences p
                   WHERE p.user_id = notifications.user_id AND p.type = notifications.type) AS "mailChoice"`,
      [
        rows.map((row) => row.userId),
        rows.map((row) => row.organizationId),
        rows.map((row) => row.eventId),
        rows.map((row) => row.type),
        rows.map((row) => row.message),
        rows.map((row) => row.taskId),
      ],
    )) as WrittenNotification[];
  }

  /** Deletes every notification addressed to any of `userIds` (their accounts were deleted), in one statement; run again, it finds none. */
  async deleteAllOf(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.manager.query(`DELETE FROM notifications WHERE user_id = ANY($1::uuid[])`, [userIds]);
  }

  /** The organizations the user's notifications (only those among `ids`, when given) come from. */
  async organizationsOf(userId: string, ids?: readonly string[]): Promise<string[]> {
    const rows = (await this.manager.query(
      `SELECT DISTINCT organization_id AS id FROM notifications WHERE user_id = $1${ids ? ' AND id = ANY($2::uuid[])' : ''}`,
      ids ? [userId, ids] : [userId],
    )) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** Marks the user's unread notifications among `ids` that come from `organizationIds`; returns how many changed. */
  async markRead(userId: string, ids: readonly string[], organizationIds: readonly string[]): Promise<number> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [marked] = (await this.manager.query(
      `UPDATE notifications SET read_at = now()
        WHERE user_id = $1 AND id = ANY($2::uuid[]) AND organization_id = ANY($3::uuid[]) AND read_at IS NULL RETURNING id`,
      [userId, ids, organizationIds],
    )) as [unknown[], number];
    return marked.length;
  }

  /** Newest first, only those from `organizationIds`, optionally only the unread; a page per user in one statement. */
  pages(
    userIds: readonly string[],
    page: PageRequest,
    filter: { organizationIds: readonly string[]; unreadOnly: boolean },
  ): Promise<Connection<NotificationEntity>[]> {
    const list = {
      entity: NotificationEntity,
      alias: 'n',
      parent: 'user_id',
      order: { column: 'created_at', kind: 'timestamp', descending: true },
    } as const;
    return loadKeysetPages(this.manager, list, userIds, page, (params) => [
      `n.organization_id = ANY(${params.add(filter.organizationIds, '::uuid[]')})`,
      ...(filter.unreadOnly ? ['n.read_at IS NULL'] : []),
    ]);
  }
}
