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

  /** Former JWT_SECRETs, comma-separated: they no longer sign but still verify, so a rotation logs nobody out. */
  @IsOptional() @IsString() @MinLength(1)
  JWT_PREVIOUS_SECRETS: string | undefined = undefined;

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

  /** A refresh token presented again this soon after it was spent (a client's retry) gets the same successor back instead of revoking its family; 0 turns the grace off. */
  @IsInt() @Min(0) @Max(300)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  /** log2 of scrypt's cost N; 17 is OWASP's recommendation (N=2^17, r=8, p=1). */
  @IsInt() @Min(10) @Max(20)
  PASSWORD_HASH_COST = 17;

  /** Consecutive failed logIns of one account from one address before each next attempt from there waits (LOGIN_DELAY_*). */
  @IsInt() @Min(1)
  LOGIN_FAILURES_PER_ACCOUNT_AND_IP = 5;

  /** Consecutive failed logIns of one account from any address before addresses it has not signed in from wait; NIST 800-63B allows at most 100. */
  @IsInt() @Min(1) @Max(100)
  LOGIN_FAILURES_PER_ACCOUNT = 100;

  /** The first wait past either failure count; each further failure doubles it. */
  @IsDuration()
  LOGIN_DELAY_FIRST = '1s';

  /** The longest wait between two logIn attempts past a failure count. */
  @IsDuration()
  LOGIN_DELAY_MAX = '15m';

  /** logIn attempts allowed per client IP (across accounts) within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt() @Min(1)
  LOGIN_RATE_LIMIT_PER_IP = 100;

  /** The window of the per-IP logIn limit. */
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

/** The JWT_PREVIOUS_SECRETS list. */
export function previousJwtSecrets(config: AuthConfig): string[] {
  return (config.JWT_PREVIOUS_SECRETS ?? '').split(/[\s,]+/).filter(Boolean);
}

/** Production holds each previous secret to the current one's length rule. */
export function checkPreviousJwtSecrets(config: AuthConfig & ProcessConfig, problems: string[]): void {
  const short = previousJwtSecrets(config).filter((secret) => Buffer.byteLength(secret, 'utf8') < MIN_PRODUCTION_SECRET_BYTES).length;
  if (config.NODE_ENV === 'production' && short > 0) problems.push(`JWT_PREVIOUS_SECRETS: ${short} secret(s) shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes`);
}
