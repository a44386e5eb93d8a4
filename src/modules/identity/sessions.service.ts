import { randomUUID } from 'node:crypto';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { UnauthenticatedError } from '../../platform/errors';
import type { Logger } from '../../platform/logging/logger';
import { hashOpaqueToken, looksLikeOpaqueToken, newOpaqueToken } from '../../platform/opaque-tokens';
import type { RefreshSuccessors } from './refresh-successors';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import type { SessionEntity } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import type { AccessTokens } from './tokens';

export interface Session {
  userId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

/** The client a session is started or used from, as the request shows it. */
export interface SessionClient {
  ip: string;
  userAgent?: string;
}

/** A stored User-Agent is for a person to recognise their device; a header of any length is not. */
const USER_AGENT_MAX_LENGTH = 256;

/** Where repositories come from: the unit of work (each statement commits by itself) or a caller's transaction. */
type Scope = Pick<UnitOfWork, 'get'>;

const INVALID_REFRESH_TOKEN = 'Invalid or expired refresh token';

/**
 * Sessions are an access JWT plus a chain of single-use refresh tokens (a
 * family). Refreshing spends the presented token and issues the next one,
 * derived from it (RefreshSuccessors). A spent token presented again within
 * REFRESH_REUSE_GRACE_SECONDS (a client's retry, a second tab) gets that same
 * successor back with a fresh access token, so the family never forks; later,
 * or once the successor has been spent in turn, it means the token was stolen
 * or replayed, and the whole family is revoked.
 */
export class SessionsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly accessTokens: AccessTokens,
    private readonly successors: RefreshSuccessors,
    private readonly refreshTtlSeconds: number,
    private readonly reuseGraceSeconds: number,
  ) {}

  /** Starts a new session (a family); runs in the caller's transaction when given one. */
  async start(userId: string, client: SessionClient, scope?: Scope): Promise<Session> {
    if (!scope) return this.uow.transaction((tx) => this.start(userId, client, tx));
    const familyId = randomUUID();
    await scope
      .get(SessionsRepository)
      .insert({ id: familyId, userId, expiresAt: this.refreshExpiry(), ip: client.ip, userAgent: userAgentOf(client) });
    return this.issue(scope, userId, familyId, newOpaqueToken());
  }

  /** `logger` is the request's, so a detected replay is logged with the request id. */
  async refresh(refreshToken: string, logger: Logger, client: SessionClient): Promise<Session> {
    if (!looksLikeOpaqueToken(refreshToken)) throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
    const tokenHash = hashOpaqueToken(refreshToken);

    // The conditional UPDATE lets exactly one of any number of concurrent refreshes spend the token; the others wait for its commit.
    const rotated = await this.uow.transaction(async (tx) => {
      const family = await tx
        .get(RefreshTokensRepository)
        .spend(tokenHash, { expiresAt: this.refreshExpiry(), ip: client.ip, userAgent: userAgentOf(client) });
      return family ? this.issue(tx, family.userId, family.familyId, this.successors.next(refreshToken)) : undefined;
    });
    if (rotated) return rotated;

    if (this.reuseGraceSeconds > 0) {
      const retried = await this.retry(refreshToken, tokenHash, logger);
      if (retried) return retried;
    }
    await this.revokeFamilyIfReused(tokenHash, logger);
    throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
  }

  /** Ends the session the token belongs to; false when there was no live session for it. */
  async end(refreshToken: string): Promise<boolean> {
    if (!looksLikeOpaqueToken(refreshToken)) return false;
    return this.uow.get(RefreshTokensRepository).revokeFamilyOf(hashOpaqueToken(refreshToken));
  }

  /** A token spent within the grace window: its live successor again, or UNAUTHENTICATED; undefined when it was not spent within the window. */
  private async retry(refreshToken: string, tokenHash: string, logger: Logger): Promise<Session | undefined> {
    const candidates = this.successors.candidates(refreshToken);
    const tokens = this.uow.get(RefreshTokensRepository);
    const spent = await tokens.spentWithin(tokenHash, candidates.map(hashOpaqueToken), this.reuseGraceSeconds);
    if (!spent) return undefined;
    const successor = candidates.find((candidate) => hashOpaqueToken(candidate) === spent.successorHash);
    if (successor && spent.successorLive) {
      const access = await this.accessTokens.issue(spent.userId, spent.familyId);
      return {
        userId: spent.userId,
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        refreshToken: successor,
      };
    }
    if (successor) {
      // The successor was spent already: whoever presents its parent now is not retrying that answer.
      const revokedCount = await tokens.revokeFamily(spent.familyId);
      logger.warn('refresh token reused: session family revoked', {
        userId: spent.userId,
        familyId: spent.familyId,
        revokedCount,
        withinGrace: true,
      });
    } else {
      // Spent before successors were derived, or under a secret no longer configured: the retry cannot be answered, but it is no theft.
      logger.warn('refresh token retried but its successor cannot be derived', {
        userId: spent.userId,
        familyId: spent.familyId,
      });
    }
    throw new UnauthenticatedError(INVALID_REFRESH_TOKEN);
  }

  private async revokeFamilyIfReused(tokenHash: string, logger: Logger): Promise<void> {
    const tokens = this.uow.get(RefreshTokensRepository);
    const token = await tokens.byTokenHash(tokenHash);
    if (!token?.usedAt || token.revokedAt) return;
    const revokedCount = await tokens.revokeFamily(token.familyId);
    logger.warn('refresh token reused: session family revoked', {
      userId: token.userId,
      familyId: token.familyId,
      revokedCount,
    });
  }

  /** The user's live sessions, most recently used first. */
  async liveOf(userId: string, now: Date): Promise<SessionEntity[]> {
    return this.uow.get(SessionsRepository).liveOf(userId, now);
  }

  /** Ends sessions of the user and their refresh tokens, in the caller's transaction; the ids it ended. */
  async revoke(scope: Scope, userId: string, which: { ids?: string[]; exceptId?: string }): Promise<string[]> {
    return scope.get(SessionsRepository).revoke(userId, which);
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.refreshTtlSeconds * 1000);
  }

  private async issue(scope: Scope, userId: string, familyId: string, refreshToken: string): Promise<Session> {
    await scope
      .get(RefreshTokensRepository)
      .insert({ userId, familyId, tokenHash: hashOpaqueToken(refreshToken), expiresAt: this.refreshExpiry() });
    const access = await this.accessTokens.issue(userId, familyId);
    return { userId, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken };
  }
}

function userAgentOf(client: SessionClient): string | null {
  return client.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX_LENGTH) : null;
}
