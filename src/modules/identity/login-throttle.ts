import { assertNotExhausted, createRateLimiter, spend, type RateLimiter } from '../../platform/rate-limit';

export interface LoginThrottleSettings {
  perEmail: number;
  perIp: number;
  windowSeconds: number;
}

/**
 * Guessing passwords is limited two ways: failed attempts per account (from
 * any address) and all attempts per client address (across accounts).
 */
export class LoginThrottle {
  private readonly failuresByEmail: RateLimiter;
  private readonly attemptsByIp: RateLimiter;

  constructor(settings: LoginThrottleSettings) {
    this.failuresByEmail = createRateLimiter({
      keyPrefix: 'login-failures-email',
      points: settings.perEmail,
      durationSeconds: settings.windowSeconds,
    });
    this.attemptsByIp = createRateLimiter({
      keyPrefix: 'login-attempts-ip',
      points: settings.perIp,
      durationSeconds: settings.windowSeconds,
    });
  }

  /** Before the password is checked: RATE_LIMITED if this address or this account is out of attempts. */
  async beforeAttempt(email: string, ip: string): Promise<void> {
    await spend(this.attemptsByIp, ip);
    await assertNotExhausted(this.failuresByEmail, email);
  }

  async recordFailure(email: string): Promise<void> {
    await this.failuresByEmail.penalty(email, 1);
  }

  async recordSuccess(email: string): Promise<void> {
    await this.failuresByEmail.delete(email);
  }
}
