import { randomUUID } from 'node:crypto';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { UnauthenticatedError } from '../../platform/errors';
import type { Logger } from '../../platform/logging/logger';
import { hashOpaqueToken, looksLikeOpaqueToken, newOpaqueToken } from '../../platform/opaque-tokens';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import type { AccessTokens } from './tokens';

export interface Session {
  userId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

/** Where repositories come from: the unit of work (each statement commits by itself) or a caller's transaction. */
type Scope = Pick<UnitOfWork, 'get'>;

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
    private readonly uow: UnitOfWork,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTtlSeconds: number,
    private readonly reuseGraceSeconds: number,
  ) {}

  /** Starts a new family; runs in the caller's transaction when given one. */
  async start(userId: string, scope: Scope = this.uow): Promise<Session> {
    return this.issue(scope, userId, randomUUID());
  }

  /** `logger` is the request's, so a detected replay is logged with the request id. */
  async refresh(refreshToken: string, logger: Logger): Promise<Session> {
    if (!looksLikeOpaqueToken(refreshToken)) throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
    const tokenHash = hashOpaqueToken(refreshToken);

    const rotated = await this.uow.transaction(async (tx) => {
      const tokens = tx.get(RefreshTokensRepository);
      // The other one of two (a double-click, a retried request) is not a thief if it comes within the grace window: it gets a pair of its own.
      const family = (await tokens.spend(tokenHash)) ?? (await tokens.spentWithin(tokenHash, this.reuseGraceSeconds));
      return family ? this.issue(tx, family.userId, family.familyId) : undefined;
    });
    if (rotated) return rotated;

    await this.revokeFamilyIfReused(tokenHash, logger);
    throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
  }

  /** Ends the session the token belongs to; false when there was no live session for it. */
  async end(refreshToken: string): Promise<boolean> {
    if (!looksLikeOpaqueToken(refreshToken)) return false;
    return this.uow.get(RefreshTokensRepository).revokeFamilyOf(hashOpaqueToken(refreshToken));
  }

  private async revokeFamilyIfReused(tokenHash: string, logger: Logger): Promise<void> {
    const tokens = this.uow.get(RefreshTokensRepository);
    const token = await tokens.byTokenHash(tokenHash);
    if (!token?.usedAt || token.revokedAt) return;
    const revokedCount = await tokens.revokeFamily(token.familyId);
    logger.warn('refresh token reused: session family revoked', { userId: token.userId, familyId: token.familyId, revokedCount });
  }

  private async issue(scope: Scope, userId: string, familyId: string): Promise<Session> {
    const refreshToken = newOpaqueToken();
    await scope.get(RefreshTokensRepository).insert({
      userId,
      familyId,
      tokenHash: hashOpaqueToken(refreshToken),
      expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000),
    });
    const access = await this.accessTokens.issue(userId);
    return { userId, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken };
  }
}
