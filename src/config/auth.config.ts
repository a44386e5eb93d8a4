import { randomBytes } from 'node:crypto';
import { IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { IsDuration } from './duration';
import type { ProcessConfig } from './process.config';

const MIN_PRODUCTION_SECRET_BYTES = 32;

/** Tokens, password hashing and the logIn rate limits. */
export class AuthConfig {
  /** HS256 key for access tokens; at least 32 bytes in production. */
  @IsOptional() @IsString() @MinLength(1)
  JWT_SECRET: string | undefined = undefined;

  /** Issuer written into and required of access tokens. */
  @IsString() @MinLength(1)
  JWT_ISSUER = 'groundwork';

  /** Audience written into and required of access tokens. */
  @IsString() @MinLength(1)
  JWT_AUDIENCE = 'groundwork-api';

  /** Lifetime of an access token. */
  @IsDuration()
  ACCESS_TOKEN_TTL = '15m';

  /** Lifetime of a refresh token. */
  @IsDuration()
  REFRESH_TOKEN_TTL = '30d';

  /** A refresh token presented again this soon after it was spent (a double-clicking client) gets a new pair instead of revoking its family; 0 turns the grace off. */
  @IsInt() @Min(0) @Max(300)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  /** log2 of scrypt's cost N; 17 is OWASP's recommendation (N=2^17, r=8, p=1). */
  @IsInt() @Min(10) @Max(20)
  PASSWORD_HASH_COST = 17;

  /** Failed logIn attempts allowed per email within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt() @Min(1)
  LOGIN_RATE_LIMIT_PER_EMAIL = 10;

  /** logIn attempts allowed per client IP within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt() @Min(1)
  LOGIN_RATE_LIMIT_PER_IP = 100;

  /** The window of both logIn limits. */
  @IsDuration()
  LOGIN_RATE_LIMIT_WINDOW = '15m';
}

/** Production refuses a missing or short JWT_SECRET; development generates one (or warns of a short one) so it can start bare. */
export function checkJwtSecret(config: AuthConfig & ProcessConfig, problems: string[], warnings: string[]): void {
  const secretBytes = config.JWT_SECRET === undefined ? 0 : Buffer.byteLength(config.JWT_SECRET, 'utf8');
  if (secretBytes >= MIN_PRODUCTION_SECRET_BYTES) return;
  if (config.NODE_ENV === 'production') {
    problems.push(
      config.JWT_SECRET === undefined
        ? 'JWT_SECRET is required in production (or JWT_SECRET_FILE)'
        : `JWT_SECRET must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production`,
    );
    return;
  }
  if (config.JWT_SECRET === undefined) {
    config.JWT_SECRET = randomBytes(48).toString('base64url');
    warnings.push('JWT_SECRET is not set: generated a random one, so tokens will not survive a restart');
  } else {
    warnings.push(`JWT_SECRET is shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes: production would refuse it`);
  }
}
