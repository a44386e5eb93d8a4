import { spend, type RateLimiter, type RateLimits } from '../../platform/rate-limit';

export interface ProgressiveDelaySettings {
  /** Consecutive failures allowed before attempts must wait. */
  free: number;
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** How long a key's failures are remembered after its first one (a success forgets them at once). */
  memorySeconds: number;
}

/**
 * Consecutive failures per key and, past the free ones, a gate that lets one
 * attempt through per delay: the first delay, doubling with each further
 * failure, up to the longest. An attempt counts as a failure from the moment
 * it enters (one atomic increment), so a burst of parallel guesses gets no
 * more through than the same guesses one by one.
 */
export class ProgressiveDelay {
  private readonly failures: RateLimiter;
  private readonly gate: RateLimiter;

  constructor(
    rateLimits: RateLimits,
    name: string,
    private readonly settings: ProgressiveDelaySettings,
  ) {
    this.failures = rateLimits.create({
      keyPrefix: `${name}-failures`,
      points: Number.MAX_SAFE_INTEGER,
      durationSeconds: settings.memorySeconds,
    });
    this.gate = rateLimits.create({ keyPrefix: `${name}-gate`, points: 1, durationSeconds: settings.maxDelaySeconds });
  }

  /** Counts the attempt; RATE_LIMITED with the seconds left (the attempt uncounted) while the key must wait. */
  async enter(key: string): Promise<void> {
    const { consumedPoints } = await this.failures.penalty(key, 1);
    if (consumedPoints < this.settings.free) return;
    try {
      // Passing closes the gate behind this attempt for the delay its failure would earn.
      await spend(this.gate, key, 1, this.delaySeconds(consumedPoints - this.settings.free));
    } catch (error) {
      await this.uncount(key);
      throw error;
    }
  }

  /** Counts the attempt without making it wait (an address the account is known to use). */
  async count(key: string): Promise<void> {
    await this.failures.penalty(key, 1);
  }

  /** The attempt was refused elsewhere or never decided: it was no failure. */
  async uncount(key: string): Promise<void> {
    await this.failures.reward(key, 1);
  }

  async reset(key: string): Promise<void> {
    await Promise.all([this.failures.delete(key), this.gate.delete(key)]);
  }

  private delaySeconds(failuresPastFree: number): number {
    const { firstDelaySeconds, maxDelaySeconds } = this.settings;
    return Math.min(maxDelaySeconds, firstDelaySeconds * 2 ** Math.min(failuresPastFree, 40));
  }
}
