import { MAX_LIMITER_SECONDS, spend, type RateLimiter, type RateLimits } from '../../platform/rate-limit';
import { ProgressiveDelay } from './progressive-delay';

export interface LoginThrottleSettings {
  /** Consecutive failures of one account from one address before that address waits. */
  failuresPerAccountAndIp: number;
  /** Consecutive failures of one account from every address before addresses it has not signed in from wait. */
  failuresPerAccount: number;
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** logIn attempts per client address across accounts, per window. */
  perIp: number;
  windowSeconds: number;
  /** How long an address the account signed in from stays exempt from the per-account ceiling (at most MAX_LIMITER_SECONDS, about 24 days). */
  knownAddressSeconds: number;
}

/** Consecutive failures are remembered this long after the first (and at least as long as the longest delay). */
const FAILURE_MEMORY_SECONDS = 86_400;

/**
 * Password guessing meets three limits, none of which locks the owner out:
 * - per account and address (tight): after a few consecutive failures that
 *   address waits before each next attempt, 1 s, 2 s, 4 s, ... (answered
 *   RATE_LIMITED with the seconds to wait), so guessing from elsewhere never
 *   slows the owner down;
 * - per account (NIST 800-63B: at most 100 consecutive failures): past the
 *   ceiling, the same growing wait for every address the account has not
 *   signed up or signed in from, while its known addresses go on as before;
 * - per address across accounts: a fixed budget per window (spraying).
 * A success forgets the account's failures. On Redis when REDIS_URL is set,
 * so the limits hold across instances; in memory otherwise.
 */
export class LoginThrottle {
  private readonly byAccountAndIp: ProgressiveDelay;
  private readonly byAccount: ProgressiveDelay;
  private readonly knownAddresses: RateLimiter;
  private readonly attemptsByIp: RateLimiter;
  private readonly knownAddressSeconds: number;

  constructor(rateLimits: RateLimits, settings: LoginThrottleSettings) {
    const maxDelaySeconds = Math.min(settings.maxDelaySeconds, MAX_LIMITER_SECONDS);
    const delays = {
      firstDelaySeconds: Math.min(settings.firstDelaySeconds, maxDelaySeconds),
      maxDelaySeconds,
      memorySeconds: Math.max(FAILURE_MEMORY_SECONDS, maxDelaySeconds),
    };
    this.knownAddressSeconds = Math.min(settings.knownAddressSeconds, MAX_LIMITER_SECONDS);
    this.byAccountAndIp = new ProgressiveDelay(rateLimits, 'login-account-ip', {
      ...delays,
      free: settings.failuresPerAccountAndIp,
    });
    this.byAccount = new ProgressiveDelay(rateLimits, 'login-account', {
      ...delays,
      free: settings.failuresPerAccount,
    });
    this.knownAddresses = rateLimits.create({
      keyPrefix: 'login-known-address',
      points: 1,
      durationSeconds: this.knownAddressSeconds,
    });
    this.attemptsByIp = rateLimits.create({
      keyPrefix: 'login-attempts-ip',
      points: settings.perIp,
      durationSeconds: settings.windowSeconds,
    });
  }

  /** Before the password is checked: RATE_LIMITED if this address or this account must wait; otherwise the attempt counts as failed until `succeeded`. */
  async beforeAttempt(email: string, ip: string): Promise<void> {
    await spend(this.attemptsByIp, ip);
    const pair = pairKey(email, ip);
    await this.byAccountAndIp.enter(pair);
    try {
      if (await this.isKnown(pair)) await this.byAccount.count(email);
      else await this.byAccount.enter(email);
    } catch (error) {
      await this.byAccountAndIp.uncount(pair);
      throw error;
    }
  }

  /** The attempt failed for a reason of ours (the database, say), not a wrong password: it does not count. */
  async abandoned(email: string, ip: string): Promise<void> {
    await Promise.all([this.byAccountAndIp.uncount(pairKey(email, ip)), this.byAccount.uncount(email)]);
  }

  /** The right password: the account's failures are forgotten and this address becomes one it is known to use. */
  async succeeded(email: string, ip: string): Promise<void> {
    await Promise.all([
      this.byAccountAndIp.reset(pairKey(email, ip)),
      this.byAccount.reset(email),
      this.remember(email, ip),
    ]);
  }

  /** An address the account was created from is one it is known to use. */
  async remember(email: string, ip: string): Promise<void> {
    await this.knownAddresses.set(pairKey(email, ip), 1, this.knownAddressSeconds);
  }

  private async isKnown(pair: string): Promise<boolean> {
    return (await this.knownAddresses.get(pair)) !== null;
  }
}

/** The address first: it never holds a '|', so no email and address pair can spell another's key. */
function pairKey(email: string, ip: string): string {
  return `${ip}|${email}`;
}
