import { spend, type RateLimiter, type RateLimits } from '../../platform/rate-limit';

export interface AccountMailLimitSettings {
  perAddress: number;
  perIp: number;
  windowSeconds: number;
}

/**
 * Limits on the mutations that mail an address (reset, verification, email
 * change, sign-up): per target address, whether or not it has an account (the
 * answer must not tell), and per client address. On Redis when REDIS_URL is
 * set, so they hold across instances; in memory otherwise.
 */
export class AccountMailLimits {
  private readonly byAddress: RateLimiter;
  private readonly byIp: RateLimiter;

  constructor(rateLimits: RateLimits, settings: AccountMailLimitSettings) {
    this.byAddress = rateLimits.create({
      keyPrefix: 'account-mail-address',
      points: settings.perAddress,
      durationSeconds: settings.windowSeconds,
    });
    this.byIp = rateLimits.create({
      keyPrefix: 'account-mail-ip',
      points: settings.perIp,
      durationSeconds: settings.windowSeconds,
    });
  }

  /** RATE_LIMITED when this client or this target address has had its share. */
  async spend(ip: string, address: string): Promise<void> {
    await spend(this.byIp, ip);
    await spend(this.byAddress, address);
  }

  /** Sign-up is limited per target address only: a whole office signs up from one address. */
  async spendForAddress(address: string): Promise<void> {
    await spend(this.byAddress, address);
  }
}
