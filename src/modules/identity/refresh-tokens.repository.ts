import type { EntityManager } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';

/** Whose session a refresh token continues. */
export interface TokenFamily {
  userId: string;
  familyId: string;
}

/** A use of a session: its new expiry, and the client as seen. */
export interface SessionUse {
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** A spent token and, when it was found, its successor: `successorLive` false once that was spent in turn. */
export interface SpentToken extends TokenFamily {
  successorHash: string | null;
  successorLive: boolean | null;
}

/** Every statement about refresh tokens: the links of each session's chain. */
export class RefreshTokensRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(values: Pick<RefreshTokenEntity, 'userId' | 'familyId' | 'tokenHash' | 'expiresAt'>): Promise<void> {
    await this.manager.insert(RefreshTokenEntity, values);
  }

  /**
   * Spends a live token in one conditional UPDATE, so of two concurrent refreshes exactly one spends it; the same
   * statement records the use on its session (when, from where, until when its successor lives).
   */
  async spend(tokenHash: string, use: SessionUse): Promise<TokenFamily | undefined> {
    const rows = (await this.manager.query(
      `WITH spent AS (
         UPDATE refresh_tokens SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING user_id, family_id),
       used AS (
         UPDATE sessions s SET last_used_at = now(), expires_at = $2, ip = $3, user_agent = $4 FROM spent WHERE s.id = spent.family_id)
       SELECT user_id AS "userId", family_id AS "familyId" FROM spent`,
      [tokenHash, use.expiresAt, use.ip, use.userAgent],
    )) as TokenFamily[];
    return rows[0];
  }

  /**
   * A token spent within the last `seconds` and not revoked since, with the
   * state of its successor: the row of its family whose hash is one of
   * `successorHashes` (the successor as derived under each secret).
   */
  async spentWithin(tokenHash: string, successorHashes: string[], seconds: number): Promise<SpentToken | undefined> {
    const rows = (await this.manager.query(
      `SELECT spent.user_id AS "userId", spent.family_id AS "familyId", next.token_hash AS "successorHash",
              (next.used_at IS NULL AND next.revoked_at IS NULL AND next.expires_at > now()) AS "successorLive"
         FROM refresh_tokens spent
         LEFT JOIN refresh_tokens next ON next.token_hash = ANY($2::text[]) AND next.family_id = spent.family_id
        WHERE spent.token_hash = $1 AND spent.revoked_at IS NULL AND spent.expires_at > now()
          AND spent.used_at > now() - $3 * interval '1 second'
        ORDER BY "successorLive" DESC NULLS LAST
        LIMIT 1`,
      [tokenHash, successorHashes, seconds],
    )) as SpentToken[];
    return rows[0];
  }

  async byTokenHash(tokenHash: string): Promise<RefreshTokenEntity | undefined> {
    return (await this.manager.findOneBy(RefreshTokenEntity, { tokenHash })) ?? undefined;
  }

  /** Revokes the live tokens of the family the token belongs to, and its session; false when none was live. */
  async revokeFamilyOf(tokenHash: string): Promise<boolean> {
    const rows = (await this.manager.query(
      `WITH revoked AS (
         UPDATE refresh_tokens SET revoked_at = now()
          WHERE revoked_at IS NULL
            AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
          RETURNING family_id),
       ended AS (UPDATE sessions SET revoked_at = now() WHERE id IN (SELECT family_id FROM revoked) AND revoked_at IS NULL)
       SELECT count(*)::int AS count FROM revoked`,
      [tokenHash],
    )) as { count: number }[];
    return rows[0].count > 0;
  }

  /** Revokes the family's live tokens and its session; how many tokens there were. */
  async revokeFamily(familyId: string): Promise<number> {
    const rows = (await this.manager.query(
      `WITH revoked AS (UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING id),
       ended AS (UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL)
       SELECT count(*)::int AS count FROM revoked`,
      [familyId],
    )) as { count: number }[];
    return rows[0].count;
  }
}
