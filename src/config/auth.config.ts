import { randomBytes } from 'node:crypto';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { keptDevelopmentSecret } from './development-secrets';
import { IsDuration } from './duration';
import type { ProcessConfig } from './process.config';

const MIN_PRODUCTION_SECRET_BYTES = 32;
/** Where development keeps the JWT secret it generates, so tokens survive a restart. */
export const DEVELOPMENT_JWT_SECRET_FILE = './.data/dev-jwt-secret';

export type SignupMode = 'open' | 'quiet';

/** Tokens, password hashing and the logIn rate limits. */
export class AuthConfig {
  /** HS256 key for access tokens; at least 32 bytes in production. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  JWT_SECRET: string | undefined = undefined;

  /** Former JWT_SECRETs, comma-separated: they no longer sign but still verify, so a rotation logs nobody out. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  JWT_PREVIOUS_SECRETS: string | undefined = undefined;

  /** Issuer written into and required of access tokens. */
  @IsString()
  @MinLength(1)
  JWT_ISSUER = 'groundwork';

  /** Audience written into and required of access tokens. */
  @IsString()
  @MinLength(1)
  JWT_AUDIENCE = 'groundwork-api';

  /** Lifetime of an access token. */
  @IsDuration()
  ACCESS_TOKEN_TTL = '15m';

  /** Lifetime of a refresh token. */
  @IsDuration()
  REFRESH_TOKEN_TTL = '30d';

  /** A refresh token presented again this soon after it was spent (a client's retry) gets the same successor back instead of revoking its family; 0 turns the grace off. */
  @IsInt()
  @Min(0)
  @Max(300)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  /** log2 of scrypt's cost N; 17 is OWASP's recommendation (N=2^17, r=8, p=1). */
  @IsInt()
  @Min(10)
  @Max(20)
  PASSWORD_HASH_COST = 17;

  /** Consecutive failed logIns of one account from one address before each next attempt from there waits (LOGIN_DELAY_*). */
  @IsInt()
  @Min(1)
  LOGIN_FAILURES_PER_ACCOUNT_AND_IP = 5;

  /** Consecutive failed logIns of one account from any address before addresses it has not signed in from wait; NIST 800-63B allows at most 100. */
  @IsInt()
  @Min(1)
  @Max(100)
  LOGIN_FAILURES_PER_ACCOUNT = 100;

  /** The first wait past either failure count; each further failure doubles it. */
  @IsDuration()
  LOGIN_DELAY_FIRST = '1s';

  /** The longest wait between two logIn attempts past a failure count. */
  @IsDuration()
  LOGIN_DELAY_MAX = '15m';

  /** logIn attempts allowed per client IP (across accounts) within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt()
  @Min(1)
  LOGIN_RATE_LIMIT_PER_IP = 100;

  /** The window of the per-IP logIn limit. */
  @IsDuration()
  LOGIN_RATE_LIMIT_WINDOW = '15m';

  /** open: signUp of a taken email is CONFLICT and returns a session; quiet: signUp answers null either way, mails the owner of a taken email, and tokens come only after verification. */
  @IsIn(['open', 'quiet'])
  SIGNUP_MODE: SignupMode = 'open';

  /** How long an email-verification link works. */
  @IsDuration()
  EMAIL_VERIFICATION_TTL = '24h';

  /** How long a password-reset link works. */
  @IsDuration()
  PASSWORD_RESET_TTL = '30m';

  /** How long the link confirming a new email address works. */
  @IsDuration()
  EMAIL_CHANGE_TTL = '24h';

  /** Mails one address may be sent per window by requestPasswordReset, resendVerification, requestEmailChange and signUp. */
  @IsInt()
  @Min(1)
  ACCOUNT_MAIL_LIMIT_PER_ADDRESS = 5;

  /** requestPasswordReset, resendVerification and requestEmailChange calls per client address per window. */
  @IsInt()
  @Min(1)
  ACCOUNT_MAIL_LIMIT_PER_IP = 30;

  /** The window of the two account-mail limits. */
  @IsDuration()
  ACCOUNT_MAIL_LIMIT_WINDOW = '1h';
}

/** Production refuses a missing or short JWT_SECRET; development keeps a generated one in DEVELOPMENT_JWT_SECRET_FILE (or warns of a short one) so it can start bare; test generates one per process. */
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
  if (config.JWT_SECRET === undefined && config.NODE_ENV === 'development') {
    config.JWT_SECRET = developmentJwtSecret(problems, warnings);
  } else if (config.JWT_SECRET === undefined) {
    config.JWT_SECRET = randomJwtSecret();
    warnings.push('JWT_SECRET is not set: generated a random one, so tokens will not survive a restart');
  } else {
    warnings.push(`JWT_SECRET is shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes: production would refuse it`);
  }
}

function randomJwtSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** Development's secret, kept in DEVELOPMENT_JWT_SECRET_FILE so a frontend stays signed in across restarts (npm run dev restarts on every save). */
function developmentJwtSecret(problems: string[], warnings: string[]): string | undefined {
  const kept = keptDevelopmentSecret(DEVELOPMENT_JWT_SECRET_FILE, randomJwtSecret);
  if ('unwritable' in kept) {
    warnings.push(
      `JWT_SECRET is not set and ${DEVELOPMENT_JWT_SECRET_FILE} cannot be written: generated a random one, so tokens will not survive a restart`,
    );
    return randomJwtSecret();
  }
  if (Buffer.byteLength(kept.value, 'utf8') < MIN_PRODUCTION_SECRET_BYTES) {
    problems.push(
      `JWT_SECRET is not set and ${DEVELOPMENT_JWT_SECRET_FILE} holds no secret of ${MIN_PRODUCTION_SECRET_BYTES} bytes: delete the file to have one generated`,
    );
    return undefined;
  }
  warnings.push(
    kept.generated
      ? `JWT_SECRET is not set: generated a development secret into ${DEVELOPMENT_JWT_SECRET_FILE}, kept across restarts`
      : `JWT_SECRET is not set: using the development secret kept in ${DEVELOPMENT_JWT_SECRET_FILE}`,
  );
  return kept.value;
}

/** The JWT_PREVIOUS_SECRETS list. */
export function previousJwtSecrets(config: AuthConfig): string[] {
  return (config.JWT_PREVIOUS_SECRETS ?? '').split(/[\s,]+/).filter(Boolean);
}

/** Production holds each previous secret to the current one's length rule. */
export function checkPreviousJwtSecrets(config: AuthConfig & ProcessConfig, problems: string[]): void {
  const short = previousJwtSecrets(config).filter(
    (secret) => Buffer.byteLength(secret, 'utf8') < MIN_PRODUCTION_SECRET_BYTES,
  ).length;
  if (config.NODE_ENV === 'production' && short > 0)
    problems.push(`JWT_PREVIOUS_SECRETS: ${short} secret(s) shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes`);
}
