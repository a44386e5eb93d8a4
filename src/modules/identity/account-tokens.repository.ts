import type { EntityManager } from 'typeorm';
import { AccountTokenEntity, type AccountTokenPurpose } from './account-token.entity';

/** What a spent token was for. */
export interface SpentAccountToken {
  id: string;
  userId: string;
  email: string;
}

/** Every statement about the single-use tokens mailed for verification, password reset and email change. */
export class AccountTokensRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Stores a token for a live account; false when the account is deleted. The account row is read FOR SHARE, so a
   * deletion (which locks it FOR UPDATE, then deletes the account's tokens) either waits for this token and deletes
   * it too, or commits first and this inserts nothing: no token, and no mail, outlives the account.
   */
  async insertForLiveUser(
    values: Pick<AccountTokenEntity, 'userId' | 'purpose' | 'tokenHash' | 'email' | 'expiresAt'>,
  ): Promise<boolean> {
    const inserted = (await this.manager.query(
      `INSERT INTO account_tokens (user_id, purpose, token_hash, email, expires_at)
       SELECT u.id, $2, $3, $4, $5 FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL FOR SHARE
       RETURNING id`,
      [values.userId, values.purpose, values.tokenHash, values.email, values.expiresAt],
    )) as { id: string }[];
    return inserted.length === 1;
  }

  /**
   * Spends a live token in one conditional UPDATE (of two concurrent uses exactly one wins): unused, unexpired at `now`,
   * its account not deleted, and, except for an email change, mailed to the address the account still has.
   */
  async spend(tokenHash: string, purpose: AccountTokenPurpose, now: Date): Promise<SpentAccountToken | undefined> {
    const [rows] = (await this.manager.query(
      `UPDATE account_tokens t SET used_at = $3
         FROM users u
        WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3
          AND u.id = t.user_id AND u.deleted_at IS NULL AND (t.purpose = 'change_email' OR u.email = t.email)
        RETURNING t.id, t.user_id AS "userId", t.email`,
      [tokenHash, purpose, now],
    )) as [SpentAccountToken[], number];
    return rows[0];
  }

  /** Whether the token would spend now (the spend itself decides, atomically). */
  async isLive(tokenHash: string, purpose: AccountTokenPurpose, now: Date): Promise<boolean> {
    const rows = (await this.manager.query(
      `SELECT 1 FROM account_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3
          AND u.deleted_at IS NULL AND (t.purpose = 'change_email' OR u.email = t.email)`,
      [tokenHash, purpose, now],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Spends every other live token of the purpose: a used link retires the ones mailed before it. */
  async retire(userId: string, purpose: AccountTokenPurpose, now: Date): Promise<void> {
    await this.manager.query(
      `UPDATE account_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
      [userId, purpose, now],
    );
  }

  async deleteAllOf(userId: string): Promise<void> {
    await this.manager.delete(AccountTokenEntity, { userId });
  }
}
