import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from './errors';

export type RateLimiter = RateLimiterAbstract;

/** The longest an in-memory limiter keeps a key: it expires keys with setTimeout, which fires at once past 2^31-1 ms. */
export const MAX_LIMITER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export interface RateLimiterOptions {
  /** Distinguishes this limiter's keys from every other's. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}

/**
 * Makes the process's rate limiters: on Redis when REDIS_URL is set, so a
 * limit holds across every instance, with an in-memory stand-in while Redis
 * does not answer (limits then hold per instance rather than not at all);
 * in memory otherwise.
 */
export class RateLimits {
  constructor(
    private readonly redis?: Redis,
    private readonly keyPrefix = 'groundwork:',
  ) {}

  get shared(): boolean {
    return this.redis !== undefined;
  }

  create(options: RateLimiterOptions): RateLimiter {
    const memory = new RateLimiterMemory({
      keyPrefix: options.keyPrefix,
      points: options.points,
      duration: options.durationSeconds,
    });
    if (!this.redis) return memory;
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${this.keyPrefix}rate:${options.keyPrefix}`,
      points: options.points,
      duration: options.durationSeconds,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }
}

/**
 * Spends points for `key`; RATE_LIMITED with the seconds until the window frees up when there are none left.
 * `windowSeconds` replaces the limiter's duration for a window this spending opens.
 */
export async function spend(limiter: RateLimiter, key: string, points = 1, windowSeconds?: number): Promise<void> {
  try {
    await limiter.consume(key, points, windowSeconds === undefined ? {} : { customDuration: windowSeconds });
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(retryAfterSeconds(rejection));
    throw rejection;
  }
}

function retryAfterSeconds(state: RateLimiterRes): number {
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}
