import type { EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { Connection, PageRequest } from '../../platform/pagination';
import { NotificationEntity } from './notification.entity';

/** What a notification says, and what caused it: the rest of the row comes from the event. */
export interface NotificationDraft {
  organizationId: string;
  eventId: string;
  type: string;
  message: string;
  taskId: string;
}

/** Every statement about notifications. */
export class NotificationsRepository {
  constructor(private readonly manager: EntityManager) {}

  /** One row per recipient; a recipient already notified of the event is skipped, so a redelivery adds nothing. */
  async insertFor(userIds: readonly string[], draft: NotificationDraft): Promise<void> {
    await this.manager.query(
      `INSERT INTO notifications (user_id, organization_id, event_id, type, message, task_id)
       SELECT user_id, $2, $3, $4, $5, $6 FROM unnest($1::uuid[]) AS user_id
       ON CONFLICT (event_id, user_id) DO NOTHING`,
      [userIds, draft.organizationId, draft.eventId, draft.type, draft.message, draft.taskId],
    );
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
  pages(userIds: readonly string[], page: PageRequest, filter: { organizationIds: readonly string[]; unreadOnly: boolean }): Promise<Connection<NotificationEntity>[]> {
    const list = { entity: NotificationEntity, alias: 'n', parent: 'user_id', order: { column: 'created_at', kind: 'timestamp', descending: true } } as const;
    return loadKeysetPages(this.manager, list, userIds, page, (params) => [
      `n.organization_id = ANY(${params.add(filter.organizationIds, '::uuid[]')})`,
      ...(filter.unreadOnly ? ['n.read_at IS NULL'] : []),
    ]);
  }
}
