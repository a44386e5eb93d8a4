import { IsNull, type EntityManager } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';

/** Whose session a refresh token continues. */
export interface TokenFamily {
  userId: string;
  familyId: string;
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

  /** Spends a live token in one conditional UPDATE, so of two concurrent refreshes exactly one spends it. */
  async spend(tokenHash: string): Promise<TokenFamily | undefined> {
    const [rows] = (await this.manager.query(
      `UPDATE refresh_tokens SET used_at = now()
        WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        RETURNING user_id AS "userId", family_id AS "familyId"`,
      [tokenHash],
    )) as [TokenFamily[], number];
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

  /** Revokes the live tokens of the family the token belongs to; false when none was live. */
  async revokeFamilyOf(tokenHash: string): Promise<boolean> {
    const [rows] = (await this.manager.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL
          AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
        RETURNING id`,
      [tokenHash],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** Revokes the family's live tokens; how many there were. */
  async revokeFamily(familyId: string): Promise<number | undefined> {
    const { affected } = await this.manager.update(RefreshTokenEntity, { familyId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return affected;
  }
}
