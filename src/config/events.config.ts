import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsDuration } from './duration';
import type { RedisConfig } from './redis.config';

export type EventsTransport = 'inline' | 'redis-streams';

/** How domain events travel from the outbox to their consumers, and how failures are retried. */
export class EventsConfig {
  /** inline (in-process, from the outbox) or redis-streams. Default: redis-streams when REDIS_URL is set. */
  @IsOptional()
  @IsIn(['inline', 'redis-streams'])
  EVENTS_TRANSPORT: EventsTransport | undefined = undefined;

  /** How often the relay looks at the outbox when no local commit woke it. */
  @IsInt()
  @Min(10)
  EVENTS_POLL_INTERVAL_MS = 1000;

  /** Attempts per (consumer, event) before the event is dead-lettered. */
  @IsInt()
  @Min(1)
  @Max(100)
  EVENTS_MAX_ATTEMPTS = 10;

  /** The first retry's delay; each next one doubles, up to EVENTS_CLAIM_IDLE_MS. */
  @IsInt()
  @Min(1)
  EVENTS_RETRY_BASE_MS = 1000;

  /** A handler still running after this fails (and is retried). */
  @IsInt()
  @Min(1)
  EVENTS_HANDLER_TIMEOUT_MS = 30000;

  /** Another instance takes over after this long the work of one that stopped answering (Redis pending entries, the inline relay's lease); keep it above the handler timeout. */
  @IsInt()
  @Min(100)
  EVENTS_CLAIM_IDLE_MS = 60000;

  /** With Redis Streams: an event relayed this long ago, not yet handled by every consumer and no longer on its way in Redis, is relayed again from the outbox. */
  @IsInt()
  @Min(100)
  EVENTS_REDELIVER_AFTER_MS = 30000;

  /** Relayed events stay in the outbox this long (the audit log is the lasting record). */
  @IsDuration()
  EVENTS_OUTBOX_RETENTION = '7d';
}

/** Redis Streams cannot run without Redis; a handler outliving the take-over delay would run twice. */
export function checkEvents(config: EventsConfig & RedisConfig, problems: string[], warnings: string[]): void {
  if (config.EVENTS_TRANSPORT === 'redis-streams' && !config.REDIS_URL)
    problems.push('REDIS_URL is required when EVENTS_TRANSPORT=redis-streams');
  if (config.EVENTS_HANDLER_TIMEOUT_MS >= config.EVENTS_CLAIM_IDLE_MS) {
    warnings.push(
      "EVENTS_HANDLER_TIMEOUT_MS is not below EVENTS_CLAIM_IDLE_MS: a slow handler's event may be taken over and run twice",
    );
  }
}
