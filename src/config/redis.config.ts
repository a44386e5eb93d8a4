import { IsOptional, IsString, Matches, MinLength } from 'class-validator';

/** The Redis shared by every instance (domain events, rate limits); optional. */
export class RedisConfig {
  /** redis://host:6379/0; set, domain events go through Redis Streams and rate limits are shared. */
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: '$property must be a redis:// or rediss:// URL' })
  REDIS_URL: string | undefined = undefined;

  /** Prefix of every Redis key this deployment uses, so several deployments (or test runs) can share one Redis. */
  @IsString()
  @MinLength(1)
  REDIS_KEY_PREFIX = 'groundwork:';
}
