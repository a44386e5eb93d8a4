import { isUniqueViolation } from '../../platform/database/errors';
import type { Transaction, UnitOfWork } from '../../platform/database/unit-of-work';
import type { TypedPublisher } from '../../platform/events/outbox';
import { BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import type { Slot } from '../../platform/module';
import type { AccountMailLimits } from './account-mail-limits';
import { AccountTokensRepository } from './account-tokens.repository';
import type { ChangePasswordInput, DeleteAccountInput, RequestEmailChangeInput } from './account.inputs';
import type { IdentityEvents } from './identity.events';
import type { IdentityService } from './identity.service';
import type { RecoveryService } from './recovery.service';
import type { SessionsService } from './sessions.service';
import type { Session } from './user.types';
import { SessionsRepository } from './sessions.repository';
import { UsersRepository } from './users.repository';

/**
 * What must happen elsewhere when an account goes, in its transaction: the organizations module leaves every
 * organization for the user, or refuses (CONFLICT) while the user is the last OWNER of one.
 */
export interface AccountRemoval {
  removeUser(tx: Transaction, ctx: RequestContext, userId: string): Promise<void>;
}

/** The signed-in viewer's own account: password, email, sessions, deletion. */
export class AccountsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identity: IdentityService,
    private readonly recovery: RecoveryService,
    private readonly sessions: SessionsService,
    private readonly events: TypedPublisher<IdentityEvents>,
    private readonly mailLimits: AccountMailLimits,
    private readonly removal: Slot<AccountRemoval>,
  ) {}

  /** The current password first; ends every other session of the user; a notice goes to the address. */
  async changePassword(ctx: RequestContext, input: ChangePasswordInput): Promise<true> {
    const user = await this.identity.requireViewer(ctx);
    await this.identity.confirmPassword(ctx, user, input.currentPassword, 'input.currentPassword');
    const passwordHash = await this.identity.hashPassword(input.newPassword);
    await this.uow.transaction(async (tx) => {
      if (!(await tx.get(UsersRepository).lockForUpdate(user.id)))
        throw new UnauthenticatedError('This account no longer exists');
      await tx.get(UsersRepository).setPasswordHash(user.id, passwordHash);
      const revoked = await this.sessions.revoke(tx, user.id, { exceptId: this.currentSessionId(ctx) });
      await this.events.publish(tx, ctx, {
        type: 'user.password_changed',
        organizationId: null,
        subject: { type: 'user', id: user.id },
        data: { userId: user.id, reset: false, sessionsRevoked: revoked.length },
      });
    });
    this.identity.forget(ctx, user.id);
    return true;
  }

  /**
   * The current password first; the confirmation link goes to the new address, a notice to the current one; nothing
   * changes until the link is used. The answer does not say whether the new address has an account.
   */
  async requestEmailChange(ctx: RequestContext, input: RequestEmailChangeInput): Promise<true> {
    const user = await this.identity.requireViewer(ctx);
    if (input.newEmail === user.email) throw BadUserInputError.field('input.newEmail', 'is already your email');
    await this.identity.confirmPassword(ctx, user, input.password, 'input.password');
    await this.mailLimits.spend(ctx.ip, input.newEmail);
    await this.uow.transaction((tx) =>
      this.events.publish(tx, ctx, {
        type: 'user.email_change_requested',
        organizationId: null,
        subject: { type: 'user', id: user.id },
        data: { userId: user.id, newEmail: input.newEmail },
      }),
    );
    return true;
  }

  /** From the link mailed to the new address (no sign-in needed: the link proves that address); CONFLICT if another account took it meanwhile. */
  async confirmEmailChange(ctx: RequestContext, token: string): Promise<true> {
    const tokenHash = this.recovery.hashOf(token);
    const userId = await this.uow
      .transaction(async (tx) => {
        const spent = await this.recovery.spend(tx, tokenHash, 'change_email');
        const user = await tx.get(UsersRepository).lockForUpdate(spent.userId);
        if (!user) throw new NotFoundError('Account');
        await tx.get(UsersRepository).setVerifiedEmail(user.id, spent.email);
        await this.events.publish(tx, ctx, {
          type: 'user.email_changed',
          organizationId: null,
          subject: { type: 'user', id: user.id },
          data: { userId: user.id, previousEmail: user.email },
        });
        return user.id;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new ConflictError('Another account has this email now');
        throw error;
      });
    this.identity.forget(ctx, userId);
    return true;
  }

  /** The viewer's live sessions, most recently used first; `current` marks the one the request's access token belongs to. */
  async mySessions(ctx: RequestContext): Promise<Session[]> {
    const user = await this.identity.requireViewer(ctx);
    const current = this.currentSessionId(ctx);
    const sessions = await this.sessions.liveOf(user.id, this.identity.clock.now());
    return sessions.map((session) => ({
      id: session.id,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.expiresAt,
      userAgent: session.userAgent,
      ipAddress: session.ip,
      current: session.id === current,
    }));
  }

  /** Ends one of the viewer's sessions (NOT_FOUND for another's or an ended one); its access tokens lapse within ACCESS_TOKEN_TTL. */
  async revokeSession(ctx: RequestContext, id: string): Promise<true> {
    const sessionId = parseId(id, 'id');
    const user = await this.identity.requireViewer(ctx);
    await this.uow.transaction(async (tx) => {
      const ended = await this.sessions.revoke(tx, user.id, { ids: [sessionId] });
      if (ended.length === 0) throw new NotFoundError('Session');
      await this.events.publish(tx, ctx, {
        type: 'user.sessions_revoked',
        organizationId: null,
        subject: { type: 'user', id: user.id },
        data: { userId: user.id, sessionIds: ended, everywhere: false },
      });
    });
    return true;
  }

  /** Ends every session of the viewer, this one included; how many there were. */
  async logOutEverywhere(ctx: RequestContext): Promise<number> {
    const user = await this.identity.requireViewer(ctx);
    return this.uow.transaction(async (tx) => {
      const ended = await this.sessions.revoke(tx, user.id, {});
      await this.events.publish(tx, ctx, {
        type: 'user.sessions_revoked',
        organizationId: null,
        subject: { type: 'user', id: user.id },
        data: { userId: user.id, sessionIds: ended, everywhere: true },
      });
      return ended.length;
    });
  }

  /**
   * The password first. Leaves every organization (CONFLICT, nothing changed, while the user is the last OWNER of
   * one), deletes sessions and mailed tokens, and turns the user into "former member" with no email or password;
   * `user.deleted` tells consumers to drop what they hold about the user.
   */
  async deleteAccount(ctx: RequestContext, input: DeleteAccountInput): Promise<true> {
    const user = await this.identity.requireViewer(ctx);
    await this.identity.confirmPassword(ctx, user, input.password, 'input.password');
    await this.uow.transaction(async (tx) => {
      if (!(await tx.get(UsersRepository).lockForUpdate(user.id)))
        throw new UnauthenticatedError('This account no longer exists');
      await this.removal.get().removeUser(tx, ctx, user.id);
      await tx.get(SessionsRepository).deleteAllOf(user.id);
      await tx.get(AccountTokensRepository).deleteAllOf(user.id);
      await tx.get(UsersRepository).anonymize(user.id, this.identity.clock.now());
      await this.events.publish(tx, ctx, {
        type: 'user.deleted',
        organizationId: null,
        subject: { type: 'user', id: user.id },
        data: { userId: user.id },
      });
    });
    this.identity.forget(ctx, user.id);
    return true;
  }

  private currentSessionId(ctx: RequestContext): string | undefined {
    return ctx.viewer.kind === 'user' ? ctx.viewer.sessionId : undefined;
  }
}
