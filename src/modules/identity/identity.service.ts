import type { SignupMode } from '../../config/config';
import type { Clock } from '../../platform/clock';
import { isUniqueViolation } from '../../platform/database/errors';
import { byIdLoader, NOT_LOADED } from '../../platform/database/load-by-ids';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { TypedPublisher } from '../../platform/events/outbox';
import { BadUserInputError, ConflictError, EmailNotVerifiedError, UnauthenticatedError } from '../../platform/errors';
import { ANONYMOUS, requireUserId, type RequestContext, type Viewer } from '../../platform/graphql/context';
import type { AccountMailLimits } from './account-mail-limits';
import type { IdentityEvents } from './identity.events';
import type { SignUpInput, LogInInput } from './identity.inputs';
import type { LoginThrottle } from './login-throttle';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from './passwords';
import type { Session, SessionsService } from './sessions.service';
import type { AccessTokens } from './tokens';
import type { UserEntity } from './user.entity';
import { UsersRepository, type UserRow } from './users.repository';

export interface AuthResult extends Session {
  user: UserRow;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

/** Case and surrounding spaces never make two addresses different. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Users, sign-up and log-in; the viewer behind a bearer token. */
export class IdentityService {
  /** A hash to check wrong emails against, so an unknown email costs as much time as a wrong password. */
  private readonly decoyHash: string;
  private readonly usersById = byIdLoader('identity.usersById', (ids) => this.uow.get(UsersRepository).byIds(ids));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly passwordCost: number,
    private readonly events: TypedPublisher<IdentityEvents>,
    private readonly mailLimits: AccountMailLimits,
    private readonly signupMode: SignupMode,
    readonly clock: Clock,
  ) {
    this.decoyHash = decoyHash(passwordCost);
  }

  /**
   * open: the account and a session, CONFLICT for a taken email. quiet: undefined either way, after the same work (one
   * hash, one write to users, one event), and no session: the account logs in once its email is verified.
   * Either way the verification mail (or, quiet, the owner's notice) goes out from the event's handler.
   */
  async signUp(ctx: RequestContext, input: SignUpInput): Promise<AuthResult | undefined> {
    const email = normaliseEmail(input.email);
    const name = input.name.trim();
    await this.mailLimits.spendForAddress(email);
    const passwordHash = await hashPassword(input.password, this.passwordCost);
    if (this.signupMode === 'quiet') {
      await this.uow.transaction(async (tx) => {
        const { id, inserted } = await tx.get(UsersRepository).insertUnlessTaken({ email, name, passwordHash });
        await this.events.publish(tx, ctx, {
          type: inserted ? 'user.signed_up' : 'user.sign_up_repeated',
          organizationId: null,
          subject: { type: 'user', id },
          data: { userId: id },
        });
      });
      return undefined;
    }
    const result = await this.uow
      .transaction(async (tx) => {
        const user = await tx.get(UsersRepository).insert({ email, name, passwordHash });
        const session = await this.sessions.start(user.id, ctx, tx);
        await this.events.publish(tx, ctx, {
          type: 'user.signed_up',
          organizationId: null,
          subject: { type: 'user', id: user.id },
          data: { userId: user.id },
        });
        return { ...session, user };
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new ConflictError('An account with this email already exists');
        throw error;
      });
    await this.throttle.remember(email, ctx.ip);
    return result;
  }

  /** One answer for an unknown email and a wrong password, after the same amount of work. */
  async logIn(ctx: RequestContext, input: LogInInput): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    // From here the attempt counts as failed (the throttle's count is atomic) until the password proves otherwise.
    await this.throttle.beforeAttempt(email, ctx.ip);
    const { user, valid } = await this.checkPassword(email, input.password).catch(async (error: unknown) => {
      await this.throttle.abandoned(email, ctx.ip);
      throw error;
    });
    if (!user || !valid) throw new UnauthenticatedError(INVALID_CREDENTIALS);
    await this.throttle.succeeded(email, ctx.ip);
    // Only the password's owner learns this; in quiet mode an unverified account is no proof of owning its address.
    if (this.signupMode === 'quiet' && !user.emailVerified)
      throw new EmailNotVerifiedError(
        'Verify your email address first: follow the link mailed at sign-up, or ask resendVerification for a new one',
      );
    if (needsRehash(user.passwordHash, this.passwordCost)) {
      user.passwordHash = await hashPassword(input.password, this.passwordCost);
      await this.uow.get(UsersRepository).setPasswordHash(user.id, user.passwordHash);
    }
    return { ...(await this.sessions.start(user.id, ctx)), user };
  }

  async refreshSession(ctx: RequestContext, refreshToken: string): Promise<AuthResult> {
    const session = await this.sessions.refresh(refreshToken, ctx.logger, ctx);
    const user = await this.findById(ctx, session.userId);
    if (!user) throw new UnauthenticatedError('Invalid or expired refresh token');
    return { ...session, user };
  }

  async logOut(_ctx: RequestContext, refreshToken: string): Promise<boolean> {
    return this.sessions.end(refreshToken);
  }

  /** The viewer, or undefined when anonymous. */
  async me(ctx: RequestContext): Promise<UserRow | undefined> {
    if (ctx.viewer.kind !== 'user') return undefined;
    return this.findById(ctx, ctx.viewer.userId);
  }

  /** The user with this email, in any case and with any surrounding spaces. */
  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.uow.get(UsersRepository).rowByEmail(normaliseEmail(email));
  }

  /**
   * Where background mail (notification digests) may go: the live accounts
   * among `ids` whose address is verified (an address nobody proved is theirs
   * gets no mail), by id, in one statement.
   */
  async mailRecipients(ids: readonly string[]): Promise<Map<string, { email: string; name: string }>> {
    const users = ids.length > 0 ? await this.uow.get(UsersRepository).byIds(ids) : [];
    return new Map(
      users
        .filter((user): user is UserRow => Boolean(user && !user.deletedAt && user.emailVerified))
        .map((user) => [user.id, { email: user.email, name: user.name }]),
    );
  }

  /** Batched per request: any number of calls in one tick is one query. */
  async findById(ctx: RequestContext, id: string): Promise<UserRow | undefined> {
    return ctx.loaders.get(this.usersById).load(id);
  }

  /**
   * Loads the users ahead, in one statement with every other id asked for in
   * the tick, so that loadedById answers for them without a promise (the
   * assignees of a page of tasks, say).
   */
  async prefetch(ctx: RequestContext, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await ctx.loaders.get(this.usersById).loadMany(ids);
  }

  /** Users another module read in its own statement (`userColumnsSql`): this request's loader answers for them from now on. */
  keep(ctx: RequestContext, users: readonly UserRow[]): void {
    const loader = ctx.loaders.get(this.usersById);
    for (const user of users) loader.prime(user.id, user);
  }

  /** The user if this request has loaded them (undefined: there is no such user), else NOT_LOADED: then ask findById. */
  loadedById(ctx: RequestContext, id: string): UserRow | undefined | typeof NOT_LOADED {
    return ctx.loaders.get(this.usersById).peek(id);
  }

  /** The viewer behind an Authorization header; UNAUTHENTICATED for a malformed, forged or expired token. */
  async authenticate(authorization: string | undefined): Promise<Viewer> {
    if (authorization === undefined || authorization.trim() === '') return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const claims = match ? await this.accessTokens.verify(match[1]) : undefined;
    if (!claims) throw new UnauthenticatedError('Invalid or expired access token');
    const expiry = claims.expiresAt ? { expiresAt: claims.expiresAt } : {};
    return claims.sessionId
      ? { kind: 'user', userId: claims.userId, sessionId: claims.sessionId, ...expiry }
      : { kind: 'user', userId: claims.userId, ...expiry };
  }

  /** The signed-in viewer's account; UNAUTHENTICATED when anonymous or deleted (its access token outlives it by at most ACCESS_TOKEN_TTL). */
  async requireViewer(ctx: RequestContext): Promise<UserRow> {
    const user = await this.findById(ctx, requireUserId(ctx));
    if (!user || user.deletedAt) throw new UnauthenticatedError('This account no longer exists');
    return user;
  }

  /**
   * Checks the viewer's own password before a sensitive change, under the logIn throttle (a wrong one is a failed
   * guess at the account, wherever it is typed): BAD_USER_INPUT on `field` when wrong, RATE_LIMITED past the limits.
   */
  async confirmPassword(ctx: RequestContext, user: UserRow, password: string, field: string): Promise<void> {
    await this.throttle.beforeAttempt(user.email, ctx.ip);
    // The hash is read here only: the user loader's rows never carry it. A deleted account matches nothing.
    const valid = await this.uow
      .get(UsersRepository)
      .passwordHashOf(user.id)
      .then((passwordHash) => verifyPassword(password, passwordHash ?? this.decoyHash))
      .catch(async (error: unknown) => {
        await this.throttle.abandoned(user.email, ctx.ip);
        throw error;
      });
    if (!valid) throw BadUserInputError.field(field, 'is not your current password');
    await this.throttle.succeeded(user.email, ctx.ip);
  }

  hashPassword(password: string): Promise<string> {
    return hashPassword(password, this.passwordCost);
  }

  /** Forgets the request's copy of a user it changed. */
  forget(ctx: RequestContext, userId: string): void {
    ctx.loaders.get(this.usersById).clear(userId);
  }

  private async checkPassword(
    email: string,
    password: string,
  ): Promise<{ user: UserEntity | undefined; valid: boolean }> {
    const user = await this.uow.get(UsersRepository).byEmail(email);
    return { user, valid: await verifyPassword(password, user?.passwordHash ?? this.decoyHash) };
  }
}
