import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from './errors';

export type RateLimiter = RateLimiterAbstract;

export interface RateLimiterOptions {
  /** Distinguishes this limiter's keys from every other's. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}

/** In memory for now: limits hold per instance. Redis-backed limits arrive with REDIS_URL. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiterMemory({ keyPrefix: options.keyPrefix, points: options.points, duration: options.durationSeconds });
}

/** Spends points for `key`; RATE_LIMITED with the seconds until the window frees up when there are none left. */
export async function spend(limiter: RateLimiter, key: string, points = 1): Promise<void> {
  try {
    await limiter.consume(key, points);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(retryAfterSeconds(rejection));
    throw rejection;
  }
}

/** RATE_LIMITED if `key` has already spent every point, without spending one. */
export async function assertNotExhausted(limiter: RateLimiter, key: string): Promise<void> {
  const state = await limiter.get(key);
  if (state && state.consumedPoints >= limiter.points) throw new RateLimitedError(retryAfterSeconds(state));
}

function retryAfterSeconds(state: RateLimiterRes): number {
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}
