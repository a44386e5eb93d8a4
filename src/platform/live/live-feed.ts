import type Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import type { DomainEvent } from '../events/event';
import type { EventBus } from '../events/event-bus';
import { FailureStreak, retryDelayMs } from '../events/loop';
import { deserializeEvent } from '../events/outbox';
import { createRedisClient, entryFields, streamKeys, untilReady } from '../events/redis';

/** Where an instance's live subscriptions get every committed event from. */
export interface LiveFeed {
  start(): void;
  stop(): Promise<void>;
}

const BLOCK_MS = 1000;
const COUNT = 500;
/**
 * Batches handed to the hub and not yet delivered, at most: the next read
 * waits for the oldest beyond that. Two: the hub's statements share one
 * connection, so more batches in flight only queue there, where one read
 * later would have taken them as one batch.
 */
const IN_FLIGHT = 2;

/**
 * Redis Streams: a reader of this instance's own, on a connection of its own
 * (XREAD BLOCK ties the connection up), reading the events stream from the
 * id it last saw, without a consumer group. Every instance so sees every
 * event, and nothing is left behind in Redis when an instance dies: a
 * per-instance consumer group would stay after a crash and hold back
 * trimming (housekeeping trims only what every group acknowledged). It
 * starts at the stream's end (events from before the instance served have
 * no subscriber here), and after a Redis outage goes on from the last id,
 * so nothing the stream still holds is missed. It reads on while earlier
 * batches are being delivered (their statements in flight), up to
 * IN_FLIGHT batches, so a batch never waits in Redis for the database
 * round trips of the one before it.
 */
export class RedisLiveFeed implements LiveFeed {
  private client: Redis | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      redisUrl: string;
      keyPrefix: string;
      logger: Logger;
      deliver(events: DomainEvent[]): Promise<void>;
    },
  ) {}

  start(): void {
    const { redisUrl, logger } = this.options;
    this.client = createRedisClient(redisUrl, logger, `groundwork-live-${process.pid}`);
    this.running = this.run(this.client);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.client?.disconnect();
    await this.running;
  }

  private async run(client: Redis): Promise<void> {
    const { logger, deliver } = this.options;
    const stream = streamKeys(this.options.keyPrefix).events;
    const streak = new FailureStreak(
      (error) => logger.warn('live feed cannot read the event stream; retrying', { error }),
      () => logger.info('live feed reads the event stream again'),
    );
    let lastId: string | undefined;
    let failures = 0;
    const inFlight: Promise<void>[] = [];
    while (!this.stopped) {
      try {
        await untilReady(client, BLOCK_MS);
        if (lastId === undefined) {
          const [last] = (await client.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
          lastId = last?.[0] ?? '0-0';
        }
        const reply = (await client.xread('COUNT', COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', stream, lastId)) as
          [string, [string, string[]][]][] | null;
        streak.succeeded();
        failures = 0;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        lastId = entries[entries.length - 1][0];
        const events = entries.flatMap(([id, fields]) => {
          try {
            return [deserializeEvent(entryFields(fields).get('event') ?? '')];
          } catch (error) {
            logger.warn('live feed skipped a stream entry that is not an event', { entryId: id, error });
            return [];
          }
        });
        const delivered = deliver(events).catch(
          (error: unknown) => void logger.warn('live delivery failed', { error }),
        );
        inFlight.push(delivered);
        void delivered.then(() => inFlight.splice(inFlight.indexOf(delivered), 1));
        if (inFlight.length >= IN_FLIGHT) await inFlight[0];
      } catch (error) {
        if (this.stopped) break;
        streak.failed(error);
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(failures, 100, 2000)));
      }
    }
    await Promise.all(inFlight);
  }
}

/**
 * The inline transport: the relay of this process hands over each batch
 * once it is relayed (every consumer handled it), so the feed sees each
 * event once, in outbox order. Only the instance holding the relay lease
 * relays, so on the inline transport live subscriptions are served by one
 * instance (the embedded database has only one); several instances need
 * Redis Streams.
 */
export class InlineLiveFeed implements LiveFeed {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly deliver: (events: DomainEvent[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.onRelayed((events) => {
      this.deliver(events).catch((error: unknown) => this.logger.warn('live delivery failed', { error }));
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
  }
}
