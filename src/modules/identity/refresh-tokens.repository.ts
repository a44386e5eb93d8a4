import { IsNull, type EntityManager } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity';

/** Whose session a refresh token continues. */
export interface TokenFamily {
  userId: string;
  familyId: string;
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

  /** The family of a token spent within the last `seconds` and not revoked since. */
  async spentWithin(tokenHash: string, seconds: number): Promise<TokenFamily | undefined> {
    const rows = (await this.manager.query(
      `SELECT user_id AS "userId", family_id AS "familyId" FROM refresh_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND used_at > now() - $2 * interval '1 second'`,
      [tokenHash, seconds],
    )) as TokenFamily[];
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
