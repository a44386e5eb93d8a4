import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { TypedPublisher } from '../../platform/events/outbox';
import { InvalidTokenError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { hashOpaqueToken, looksLikeOpaqueToken } from '../../platform/opaque-tokens';
import type { AccountMailLimits } from './account-mail-limits';
import type { AccountTokenPurpose } from './account-token.entity';
import { AccountTokensRepository, type SpentAccountToken } from './account-tokens.repository';
import type { AccountEmailInput, ResetPasswordInput } from './account.inputs';
import type { IdentityEvents } from './identity.events';
import type { IdentityService } from './identity.service';
import type { SessionsService } from './sessions.service';
import { UsersRepository } from './users.repository';
import type { Transaction } from '../../platform/database/unit-of-work';

/**
 * Proving an address: email verification and password reset. The requests
 * (requestPasswordReset, resendVerification) do the same work for any
 * address, one event into the outbox, and answer the same; whether it has an
 * account is looked up by the event's handler, after the answer has gone.
 */
export class RecoveryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identity: IdentityService,
    private readonly sessions: SessionsService,
    private readonly events: TypedPublisher<IdentityEvents>,
    private readonly mailLimits: AccountMailLimits,
    private readonly clock: Clock,
  ) {}

  /** Always true, after the same work whether the address has an account or not; the link (30 min) is mailed if it has. */
  async requestPasswordReset(ctx: RequestContext, input: AccountEmailInput): Promise<true> {
    return this.requestByAddress(ctx, 'user.password_reset_requested', input.email);
  }

  /** Always true; a new verification link is mailed if the address has an unverified account. */
  async resendVerification(ctx: RequestContext, input: AccountEmailInput): Promise<true> {
    return this.requestByAddress(ctx, 'user.verification_requested', input.email);
  }

  /** Sets the password, verifies the address (the link proved it) and ends every session; INVALID_TOKEN for a bad, used or expired link. */
  async resetPassword(ctx: RequestContext, input: ResetPasswordInput): Promise<true> {
    const tokenHash = this.hashOf(input.token);
    // A cheap look first: a made-up token never costs a password hash.
    if (!(await this.uow.get(AccountTokensRepository).isLive(tokenHash, 'reset_password', this.clock.now())))
      throw new InvalidTokenError();
    const passwordHash = await this.identity.hashPassword(input.newPassword);
    const userId = await this.uow.transaction(async (tx) => {
      const spent = await this.spend(tx, tokenHash, 'reset_password');
      const users = tx.get(UsersRepository);
      await users.setPasswordHash(spent.userId, passwordHash);
      await users.markEmailVerified(spent.userId);
      const revoked = await this.sessions.revoke(tx, spent.userId, {});
      await this.events.publish(tx, ctx, {
        type: 'user.password_changed',
        organizationId: null,
        subject: { type: 'user', id: spent.userId },
        data: { userId: spent.userId, reset: true, sessionsRevoked: revoked.length },
      });
      return spent.userId;
    });
    this.identity.forget(ctx, userId);
    return true;
  }

  /** INVALID_TOKEN for a bad, used or expired link, or one mailed to an address the account no longer has. */
  async verifyEmail(ctx: RequestContext, token: string): Promise<true> {
    const tokenHash = this.hashOf(token);
    const userId = await this.uow.transaction(async (tx) => {
      const spent = await this.spend(tx, tokenHash, 'verify_email');
      await tx.get(UsersRepository).markEmailVerified(spent.userId);
      await this.events.publish(tx, ctx, {
        type: 'user.email_verified',
        organizationId: null,
        subject: { type: 'user', id: spent.userId },
        data: { userId: spent.userId },
      });
      return spent.userId;
    });
    this.identity.forget(ctx, userId);
    return true;
  }

  /** Spends the token and retires the others of its purpose (a used link retires the ones mailed before it); INVALID_TOKEN when it is not live. */
  async spend(tx: Transaction, tokenHash: string, purpose: AccountTokenPurpose): Promise<SpentAccountToken> {
    const tokens = tx.get(AccountTokensRepository);
    const now = this.clock.now();
    const spent = await tokens.spend(tokenHash, purpose, now);
    if (!spent) throw new InvalidTokenError();
    await tokens.retire(spent.userId, purpose, now);
    return spent;
  }

  hashOf(token: string): string {
    if (!looksLikeOpaqueToken(token)) throw new InvalidTokenError();
    return hashOpaqueToken(token);
  }

  private async requestByAddress(
    ctx: RequestContext,
    type: 'user.password_reset_requested' | 'user.verification_requested',
    email: string,
  ): Promise<true> {
    await this.mailLimits.spend(ctx.ip, email);
    // The subject is the request: the address may have no account, and the answer must not depend on it.
    await this.uow.transaction((tx) =>
      this.events.publish(tx, ctx, {
        type,
        organizationId: null,
        subject: { type: 'accountMailRequest', id: randomUUID() },
        data: { email },
      }),
    );
    return true;
  }
}
