import { parseDurationSeconds } from '../../config/duration';
import type { RequestContext } from '../../platform/graphql/context';
import { defineModule, Slot, type PlatformDeps } from '../../platform/module';
import { AuthResolver, UserResolver } from './identity.resolver';
import { IdentityService } from './identity.service';
import { LoginThrottle } from './login-throttle';
import { RefreshSuccessors } from './refresh-successors';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionsService } from './sessions.service';
import { AccessTokens } from './tokens';
import { UserEntity } from './user.entity';
import { Identity1764028800000 } from './migrations/1764028800000-identity';

/** Whether the viewer may see another user's email: the organizations module's rule (a shared organization). */
export interface EmailVisibility {
  canSeeEmail(ctx: RequestContext, userId: string): Promise<boolean>;
}

export type IdentityDeps = PlatformDeps;

export interface IdentityExports {
  identity: IdentityService;
  /** Identity cannot import organizations (the dependency runs the other way), so organizations fills this in its build. */
  emailVisibility: Slot<EmailVisibility>;
}

export const identityModule = defineModule<IdentityDeps, IdentityExports>({
  name: 'identity',
  entities: [UserEntity, RefreshTokenEntity],
  migrations: [Identity1764028800000],
  resolvers: [AuthResolver, UserResolver],
  build({ config, uow, rateLimits }) {
    const emailVisibility = new Slot<EmailVisibility>('identity.emailVisibility');
    const accessTokens = new AccessTokens({
      secret: config.jwtSecret,
      previousSecrets: config.jwtPreviousSecrets,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.accessTokenTtlSeconds,
    });
    const successors = new RefreshSuccessors([config.jwtSecret, ...config.jwtPreviousSecrets]);
    const sessions = new SessionsService(uow, accessTokens, successors, config.refreshTokenTtlSeconds, config.REFRESH_REUSE_GRACE_SECONDS);
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
    const identity = new IdentityService(uow, sessions, accessTokens, throttle, config.PASSWORD_HASH_COST);
    return {
      resolvers: [new AuthResolver(identity), new UserResolver(identity, (ctx, userId) => emailVisibility.get().canSeeEmail(ctx, userId))],
      exports: { identity, emailVisibility },
    };
  },
});
