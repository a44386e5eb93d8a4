import type { EntityManager } from 'typeorm';
import { selectList } from '../../platform/database/entity-columns';
import { SessionEntity } from './session.entity';

/** Every statement about sessions; ending one revokes its refresh tokens in the same statement. */
export class SessionsRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(values: Pick<SessionEntity, 'id' | 'userId' | 'expiresAt' | 'userAgent' | 'ip'>): Promise<void> {
    await this.manager.insert(SessionEntity, values);
  }

  /** The user's sessions not revoked and not expired at `now`, most recently used first. */
  async liveOf(userId: string, now: Date): Promise<SessionEntity[]> {
    return (await this.manager.query(
      `SELECT ${selectList(this.manager, SessionEntity, 's')} FROM sessions s
        WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
        ORDER BY s.last_used_at DESC, s.id`,
      [userId, now],
    )) as SessionEntity[];
  }

  /**
   * Revokes the user's live sessions (those in `ids`, or all but `exceptId` when `ids` is undefined) and their refresh
   * tokens; the ids it revoked.
   */
  async revoke(userId: string, options: { ids?: string[]; exceptId?: string }): Promise<string[]> {
    const rows = (await this.manager.query(
      `WITH ended AS (
         UPDATE sessions SET revoked_at = now()
          WHERE user_id = $1 AND revoked_at IS NULL
            AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR id <> $3::uuid)
          RETURNING id),
       tokens AS (
         UPDATE refresh_tokens SET revoked_at = now() WHERE family_id IN (SELECT id FROM ended) AND revoked_at IS NULL)
       SELECT id FROM ended ORDER BY id`,
      [userId, options.ids ?? null, options.exceptId ?? null],
    )) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** Deletes every session of the user, and with them (ON DELETE CASCADE) their refresh tokens. */
  async deleteAllOf(userId: string): Promise<void> {
    await this.manager.delete(SessionEntity, { userId });
  }
}
