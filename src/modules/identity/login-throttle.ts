import { assertNotExhausted, spend, type RateLimiter, type RateLimits } from '../../platform/rate-limit';

export interface LoginThrottleSettings {
  perEmail: number;
  perIp: number;
  windowSeconds: number;
}

/** The first lockout of an account; each next one within a day doubles, up to a day. */
const FIRST_LOCKOUT_SECONDS = 60;
const MAX_LOCKOUT_SECONDS = 86_400;

/**
 * Guessing passwords is limited two ways: failed attempts per account (from
 * any address, on every instance when the limits live in Redis) and all
 * attempts per client address (across accounts). An account that reaches
 * its failures is locked for a minute, then two, four, ... (NIST 800-63B
 * allows up to 100 failures; we lock at LOGIN_RATE_LIMIT_PER_EMAIL, 10).
 */
export class LoginThrottle {
  private readonly failuresByEmail: RateLimiter;
  private readonly lockoutsByEmail: RateLimiter;
  private readonly attemptsByIp: RateLimiter;

  constructor(
    rateLimits: RateLimits,
    private readonly settings: LoginThrottleSettings,
  ) {
    this.failuresByEmail = rateLimits.create({ keyPrefix: 'login-failures-email', points: settings.perEmail, durationSeconds: settings.windowSeconds });
    this.lockoutsByEmail = rateLimits.create({ keyPrefix: 'login-lockouts-email', points: 1_000_000, durationSeconds: MAX_LOCKOUT_SECONDS });
    this.attemptsByIp = rateLimits.create({ keyPrefix: 'login-attempts-ip', points: settings.perIp, durationSeconds: settings.windowSeconds });
  }

  /** Before the password is checked: RATE_LIMITED if this address or this account is out of attempts. */
  async beforeAttempt(email: string, ip: string): Promise<void> {
    await spend(this.attemptsByIp, ip);
    await assertNotExhausted(this.failuresByEmail, email);
  }

  async recordFailure(email: string): Promise<void> {
    const failures = await this.failuresByEmail.penalty(email, 1);
    if (failures.consumedPoints < this.settings.perEmail) return;
    const lockouts = await this.lockoutsByEmail.penalty(email, 1);
    const seconds = Math.min(MAX_LOCKOUT_SECONDS, FIRST_LOCKOUT_SECONDS * 2 ** (lockouts.consumedPoints - 1));
    await this.failuresByEmail.block(email, seconds);
  }

  async recordSuccess(email: string): Promise<void> {
    await Promise.all([this.failuresByEmail.delete(email), this.lockoutsByEmail.delete(email)]);
  }
}
