import { isUniqueViolation } from '../../platform/database/errors';
import { byIdLoader } from '../../platform/database/load-by-ids';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { ConflictError, UnauthenticatedError } from '../../platform/errors';
import { ANONYMOUS, type RequestContext, type Viewer } from '../../platform/graphql/context';
import type { SignUpInput, LogInInput } from './identity.inputs';
import type { LoginThrottle } from './login-throttle';
import { hashPassword, needsRehash, verifyPassword } from './passwords';
import type { Session, SessionsService } from './sessions.service';
import type { AccessTokens } from './tokens';
import type { UserEntity } from './user.entity';
import { UsersRepository } from './users.repository';

export interface AuthResult extends Session {
  user: UserEntity;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

/** Case and surrounding spaces never make two addresses different. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Users, sign-up and log-in; the viewer behind a bearer token. */
export class IdentityService {
  /** A hash to check wrong emails against, so an unknown email costs as much time as a wrong password. */
  private readonly decoyHash: Promise<string>;
  private readonly usersById = byIdLoader('identity.usersById', (ids) => this.uow.get(UsersRepository).byIds(ids));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly passwordCost: number,
  ) {
    this.decoyHash = hashPassword('decoy password for unknown emails', passwordCost);
    this.decoyHash.catch(() => undefined);
  }

  async signUp(ctx: RequestContext, input: SignUpInput): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    const name = input.name.trim();
    const passwordHash = await hashPassword(input.password, this.passwordCost);
    const result = await this.uow
      .transaction(async (tx) => {
        const user = await tx.get(UsersRepository).insert({ email, name, passwordHash });
        const session = await this.sessions.start(user.id, tx);
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
    if (needsRehash(user.passwordHash, this.passwordCost)) {
      user.passwordHash = await hashPassword(input.password, this.passwordCost);
      await this.uow.get(UsersRepository).setPasswordHash(user.id, user.passwordHash);
    }
    return { ...(await this.sessions.start(user.id)), user };
  }

  async refreshSession(ctx: RequestContext, refreshToken: string): Promise<AuthResult> {
    const session = await this.sessions.refresh(refreshToken, ctx.logger);
    const user = await this.findById(ctx, session.userId);
    if (!user) throw new UnauthenticatedError('Invalid or expired refresh token');
    return { ...session, user };
  }

  async logOut(_ctx: RequestContext, refreshToken: string): Promise<boolean> {
    return this.sessions.end(refreshToken);
  }

  /** The viewer, or undefined when anonymous. */
  async me(ctx: RequestContext): Promise<UserEntity | undefined> {
    if (ctx.viewer.kind !== 'user') return undefined;
    return this.findById(ctx, ctx.viewer.userId);
  }

  /** The user with this email, in any case and with any surrounding spaces. */
  async findByEmail(email: string): Promise<UserEntity | undefined> {
    return this.uow.get(UsersRepository).byEmail(normaliseEmail(email));
  }

  /** Batched per request: any number of calls in one tick is one query. */
  async findById(ctx: RequestContext, id: string): Promise<UserEntity | undefined> {
    return ctx.loaders.get(this.usersById).load(id);
  }

  /** The viewer behind an Authorization header; UNAUTHENTICATED for a malformed, forged or expired token. */
  async authenticate(authorization: string | undefined): Promise<Viewer> {
    if (authorization === undefined || authorization.trim() === '') return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const userId = match ? await this.accessTokens.verify(match[1]) : undefined;
    if (!userId) throw new UnauthenticatedError('Invalid or expired access token');
    return { kind: 'user', userId };
  }

  private async checkPassword(email: string, password: string): Promise<{ user: UserEntity | undefined; valid: boolean }> {
    const user = await this.uow.get(UsersRepository).byEmail(email);
    return { user, valid: await verifyPassword(password, user?.passwordHash ?? (await this.decoyHash)) };
  }
}
