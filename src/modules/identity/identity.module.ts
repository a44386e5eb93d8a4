import type { RequestContext } from '../../platform/graphql/context';
import { defineModule, type PlatformDeps } from '../../platform/module';
import { AuthResolver, UserResolver } from './identity.resolver';
import { IdentityService } from './identity.service';
import { LoginThrottle } from './login-throttle';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionsService } from './sessions.service';
import { AccessTokens } from './tokens';
import { UserEntity } from './user.entity';

export interface IdentityDeps extends PlatformDeps {
  /**
   * Whether the viewer may see another user's email. Identity does not know
   * organizations; the composition root passes their rule in (a shared organization).
   */
  canSeeEmail(ctx: RequestContext, userId: string): Promise<boolean>;
}

export interface IdentityExports {
  identity: IdentityService;
}

export const identityModule = defineModule<IdentityDeps, IdentityExports>({
  name: 'identity',
  entities: [UserEntity, RefreshTokenEntity],
  resolvers: [AuthResolver, UserResolver],
  build({ config, dataSource, canSeeEmail, rateLimits }) {
    const accessTokens = new AccessTokens({
      secret: config.jwtSecret,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.accessTokenTtlSeconds,
    });
    const sessions = new SessionsService(dataSource, accessTokens, config.refreshTokenTtlSeconds, config.REFRESH_REUSE_GRACE_SECONDS);
    const throttle = new LoginThrottle(rateLimits, {
      perEmail: config.LOGIN_RATE_LIMIT_PER_EMAIL,
      perIp: config.LOGIN_RATE_LIMIT_PER_IP,
      windowSeconds: config.loginRateLimitWindowSeconds,
    });
    const identity = new IdentityService(dataSource, sessions, accessTokens, throttle, config.PASSWORD_HASH_COST);
    return {
      resolvers: [new AuthResolver(identity), new UserResolver(identity, canSeeEmail)],
      exports: { identity },
    };
  },
});
