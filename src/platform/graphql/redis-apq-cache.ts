import type Redis from 'ioredis';
import type { Logger } from '../logging/logger';

/** A day: Apollo gives APQ entries no lifetime of its own, and Redis must not grow without bound. */
const DEFAULT_TTL_SECONDS = 86_400;

/**
 * Apollo's persisted-query cache (its KeyValueCache shape) on Redis, so a
 * query registered through one instance is known to every instance behind
 * the load balancer. Redis away is a miss, never a failed request: the client
 * sends the query again, as the APQ protocol has it do.
 */
export class RedisApqCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (error) {
      this.logger.debug('persisted query cache unavailable: a miss', { error: String(error) });
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, value, 'EX', options?.ttl || DEFAULT_TTL_SECONDS);
    } catch (error) {
      this.logger.debug('persisted query cache unavailable: not stored', { error: String(error) });
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.redis.del(this.prefix + key)) > 0;
    } catch {
      return false;
    }
  }
}
