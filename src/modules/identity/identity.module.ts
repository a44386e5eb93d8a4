import { parseDurationSeconds } from '../../config/duration';
import { systemClock } from '../../platform/clock';
import type { RequestContext } from '../../platform/graphql/context';
import { defineModule, Slot, type PlatformDeps } from '../../platform/module';
import { accountMailConsumer } from './account-mail.consumer';
import { AccountMails } from './account-mail';
import { AccountMailLimits } from './account-mail-limits';
import { AccountTokenEntity } from './account-token.entity';
import { AccountResolver, RecoveryResolver } from './account.resolver';
import { AccountsService, type AccountRemoval } from './accounts.service';
import { identityEvents } from './identity.events';
import { AuthResolver, UserResolver } from './identity.resolver';
import { IdentityService } from './identity.service';
import { LoginThrottle } from './login-throttle';
import { RefreshSuccessors } from './refresh-successors';
import { RefreshTokenEntity } from './refresh-token.entity';
import { RecoveryService } from './recovery.service';
import { SessionEntity } from './session.entity';
import { SessionsService } from './sessions.service';
import { AccessTokens } from './tokens';
import { UserEntity } from './user.entity';
import { Identity1764028800000 } from './migrations/1764028800000-identity';
import { Accounts1796200000000 } from './migrations/1796200000000-accounts';

/** Whether the viewer may see another user's email: the organizations module's rule (a shared organization). */
export interface EmailVisibility {
  canSeeEmail(ctx: RequestContext, userId: string): Promise<boolean>;
}

export type IdentityDeps = PlatformDeps;

export interface IdentityExports {
  identity: IdentityService;
  /** Identity cannot import organizations (the dependency runs the other way), so organizations fills this in its build. */
  emailVisibility: Slot<EmailVisibility>;
  /** What deleteAccount needs of organizations (leave them all, or refuse for a last OWNER); organizations fills it. */
  accountRemoval: Slot<AccountRemoval>;
}

export const identityModule = defineModule<IdentityDeps, IdentityExports>({
  name: 'identity',
  entities: [UserEntity, RefreshTokenEntity, SessionEntity, AccountTokenEntity],
  migrations: [Identity1764028800000, Accounts1796200000000],
  events: identityEvents,
  resolvers: [AuthResolver, UserResolver, RecoveryResolver, AccountResolver],
  build({ config, uow, rateLimits, events, mailer, clock }) {
    const emailVisibility = new Slot<EmailVisibility>('identity.emailVisibility');
    const accountRemoval = new Slot<AccountRemoval>('identity.accountRemoval');
    const publisher = events.typed(identityEvents);
    const mailLimits = new AccountMailLimits(rateLimits, {
      perAddress: config.ACCOUNT_MAIL_LIMIT_PER_ADDRESS,
      perIp: config.ACCOUNT_MAIL_LIMIT_PER_IP,
      windowSeconds: parseDurationSeconds(config.ACCOUNT_MAIL_LIMIT_WINDOW)!,
    });
    const accessTokens = new AccessTokens(
      {
        secret: config.jwtSecret,
        previousSecrets: config.jwtPreviousSecrets,
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        ttlSeconds: config.accessTokenTtlSeconds,
      },
      // The system clock, not the module's: an access token lives in the client's hands on real time (a live
      // connection is closed by a real timer when it expires), while the module clock moves stored expiries.
      systemClock,
    );
    const successors = new RefreshSuccessors([config.jwtSecret, ...config.jwtPreviousSecrets]);
    const sessions = new SessionsService(
      uow,
      accessTokens,
      successors,
      config.refreshTokenTtlSeconds,
      config.REFRESH_REUSE_GRACE_SECONDS,
    );
    const throttle = new LoginThrottle(rateLimits, {
      failuresPerAccountAndIp: config.LOGIN_FAILURES_PER_ACCOUNT_AND_IP,
      failuresPerAccount: config.LOGIN_FAILURES_PER_ACCOUNT,
      firstDelaySeconds: parseDurationSeconds(config.LOGIN_DELAY_FIRST)!,
      maxDelaySeconds: parseDurationSeconds(config.LOGIN_DELAY_MAX)!,
      perIp: config.LOGIN_RATE_LIMIT_PER_IP,
      windowSeconds: config.loginRateLimitWindowSeconds,
      // An address stays the owner's as long as a session started there could live.
      knownAddressSeconds: config.refreshTokenTtlSeconds,
    });
    const identity = new IdentityService(
      uow,
      sessions,
      accessTokens,
      throttle,
      config.PASSWORD_HASH_COST,
      publisher,
      mailLimits,
      config.SIGNUP_MODE,
      clock,
    );
    const recovery = new RecoveryService(uow, identity, sessions, publisher, mailLimits, clock);
    const accounts = new AccountsService(uow, identity, recovery, sessions, publisher, mailLimits, accountRemoval);
    const mails = new AccountMails({ productName: config.PRODUCT_NAME, appUrl: config.APP_URL });
    const lifetimes = {
      verifyEmailSeconds: parseDurationSeconds(config.EMAIL_VERIFICATION_TTL)!,
      resetPasswordSeconds: parseDurationSeconds(config.PASSWORD_RESET_TTL)!,
      changeEmailSeconds: parseDurationSeconds(config.EMAIL_CHANGE_TTL)!,
    };
    return {
      resolvers: [
        new AuthResolver(identity),
        new UserResolver(identity, (ctx, userId) => emailVisibility.get().canSeeEmail(ctx, userId)),
        new RecoveryResolver(recovery),
        new AccountResolver(accounts),
      ],
      exports: { identity, emailVisibility, accountRemoval },
      consumers: [accountMailConsumer(uow, mailer, mails, lifetimes, clock)],
    };
  },
});
