import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { UnauthenticatedError } from '../../platform/errors';
import type { Logger } from '../../platform/logging/logger';
import { RefreshTokenEntity } from './refresh-token.entity';
import { hashOpaqueToken, looksLikeOpaqueToken, newOpaqueToken } from '../../platform/opaque-tokens';
import type { AccessTokens } from './tokens';

export interface Session {
  userId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

const INVALID_REFRESH_TOKEN = 'Invalid or expired refresh token';

/**
 * Sessions are an access JWT plus a chain of single-use refresh tokens (a
 * family). Refreshing spends the presented token and issues the next one;
 * presenting a spent token means it was stolen or replayed, so the whole
 * family is revoked, unless it comes within REFRESH_REUSE_GRACE_SECONDS of
 * the spending (a double-submitting client), which gets a pair of its own.
 */
export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTtlSeconds: number,
    private readonly reuseGraceSeconds: number,
  ) {}

  /** Starts a new family; runs in the caller's transaction when given one. */
  async start(userId: string, manager: EntityManager = this.dataSource.manager): Promise<Session> {
    return this.issue(manager, userId, randomUUID());
  }

  /** `logger` is the request's, so a detected replay is logged with the request id. */
  async refresh(refreshToken: string, logger: Logger): Promise<Session> {
    if (!looksLikeOpaqueToken(refreshToken)) throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
    const tokenHash = hashOpaqueToken(refreshToken);

    const rotated = await this.dataSource.transaction(async (manager) => {
      // Spending is one conditional UPDATE, so of two concurrent refreshes exactly one spends the token.
      const [rows] = (await manager.query(
        `UPDATE refresh_tokens SET used_at = now()
          WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING user_id, family_id`,
        [tokenHash],
      )) as [{ user_id: string; family_id: string }[], number];
      const spent = rows[0];
      if (spent) return this.issue(manager, spent.user_id, spent.family_id);
      // The other one (a double-click, a retried request) is not a thief if it comes within the grace window: it gets a pair of its own.
      const recent = (await manager.query(
        `SELECT user_id, family_id FROM refresh_tokens
          WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND used_at > now() - $2 * interval '1 second'`,
        [tokenHash, this.reuseGraceSeconds],
      )) as { user_id: string; family_id: string }[];
      return recent[0] ? this.issue(manager, recent[0].user_id, recent[0].family_id) : undefined;
    });
    if (rotated) return rotated;

    await this.revokeFamilyIfReused(tokenHash, logger);
    throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
  }

  /** Ends the session the token belongs to; false when there was no live session for it. */
  async end(refreshToken: string): Promise<boolean> {
    if (!looksLikeOpaqueToken(refreshToken)) return false;
    const [rows] = (await this.dataSource.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL
          AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
        RETURNING id`,
      [hashOpaqueToken(refreshToken)],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  private async revokeFamilyIfReused(tokenHash: string, logger: Logger): Promise<void> {
    const repository = this.dataSource.getRepository(RefreshTokenEntity);
    const token = await repository.findOneBy({ tokenHash });
    if (!token?.usedAt || token.revokedAt) return;
    const { affected } = await this.dataSource
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ revokedAt: () => 'now()' })
      .where('family_id = :familyId AND revoked_at IS NULL', { familyId: token.familyId })
      .execute();
    logger.warn('refresh token reused: session family revoked', {
      userId: token.userId,
      familyId: token.familyId,
      revokedCount: affected,
    });
  }

  private async issue(manager: EntityManager, userId: string, familyId: string): Promise<Session> {
    const refreshToken = newOpaqueToken();
    await manager.insert(RefreshTokenEntity, {
      userId,
      familyId,
      tokenHash: hashOpaqueToken(refreshToken),
      expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000),
    });
    const access = await this.accessTokens.issue(userId);
    return { userId, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken };
  }
}
