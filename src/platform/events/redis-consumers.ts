import type Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import { errorMessage } from './errors';
import type { DomainEvent, EventConsumer } from './event';
import type { EventOutcome, HandlerRunner } from './handler-runner';
import { FailureStreak, retryDelayMs } from './loop';
import type { EventMetrics } from './metrics';
import { deserializeEvent } from './outbox';
import {
  compareIds,
  createGroup,
  entryFields,
  isNoGroupError,
  lastDeliveredIds,
  untilReady,
  type StreamKeys,
} from './redis';

export interface GroupWorkerOptions {
  /** For commands; the worker makes its own connection for blocking reads. */
  redis: Redis;
  keys: StreamKeys;
  consumer: EventConsumer;
  /** This instance's name within every group. */
  consumerName: string;
  runner: HandlerRunner;
  metrics: EventMetrics;
  logger: Logger;
  maxAttempts: number;
  retryBaseMs: number;
  claimIdleMs: number;
  readBlockMs?: number;
  /** Entries read (XREADGROUP COUNT) and handled per batch. */
  batchSize?: number;
  /** Called when this worker had to create its group: the first start, or Redis lost it (the entries it held may be gone too). */
  onGroupCreated?: () => void;
}

type StreamEntry = [id: string, fields: string[]];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One consuming module's consumer group, as seen from one instance: reads
 * new entries, runs the handler, acknowledges it. A failed entry stays
 * pending and is retried here after an exponential backoff (XCLAIM to
 * ourselves, which counts the delivery); an entry left pending by a dead
 * instance is taken over with XAUTOCLAIM once idle for claimIdleMs. After
 * maxAttempts deliveries the event goes to the dead-letter stream (and is
 * marked dead-lettered in the database, the record that outlives Redis).
 * Entries are handled a batch at a time per group and instance (what one
 * XREADGROUP answers, acknowledged with one XACK).
 */
export class GroupWorker {
  private running = false;
  private readonly blocking: Redis;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private queue: Promise<void> = Promise.resolve();
  private reading: Promise<void> | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private readonly streak: FailureStreak;

  constructor(private readonly options: GroupWorkerOptions) {
    this.blocking = options.redis.duplicate({ connectionName: `${options.consumerName}:${options.consumer.name}` });
    this.blocking.on('error', () => undefined);
    this.blocking.connect().catch(() => undefined);
    this.streak = new FailureStreak(
      (error) =>
        options.logger.warn('event consumer cannot read from redis; retrying', {
          consumer: options.consumer.name,
          error,
        }),
      () => options.logger.info('event consumer reading from redis again', { consumer: options.consumer.name }),
    );
  }

  private get group(): string {
    return this.options.consumer.name;
  }

  start(): void {
    this.running = true;
    this.reading = this.readLoop();
    const every = Math.max(100, Math.min(5000, Math.floor(this.options.claimIdleMs / 2)));
    this.claimTimer = setInterval(() => void this.enqueue(() => this.claimAbandoned()), every);
  }

  /** Stops reading, finishes the entry in hand; what is unacknowledged stays pending for another instance. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.claimTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.blocking.disconnect();
    await this.reading;
    await this.queue;
  }

  async ensureGroup(): Promise<void> {
    if (await createGroup(this.options.redis, this.options.keys.events, this.group)) this.options.onGroupCreated?.();
  }

  private async readLoop(): Promise<void> {
    let groupReady = false;
    // At start the clients are still connecting; without an offline queue a command now would fail (and warn) for nothing.
    await untilReady(this.options.redis, 2000);
    await untilReady(this.blocking, 2000);
    while (this.running) {
      try {
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        const reply = (await this.blocking.xreadgroup(
          'GROUP',
          this.group,
          this.options.consumerName,
          'COUNT',
          this.options.batchSize ?? 200,
          'BLOCK',
          this.options.readBlockMs ?? 1000,
          'STREAMS',
          this.options.keys.events,
          '>',
        )) as [string, StreamEntry[]][] | null;
        this.streak.succeeded();
        for (const [, entries] of reply ?? []) {
          if (entries.length > 0) await this.enqueue(() => this.processBatch(entries));
        }
      } catch (error) {
        if (!this.running) break;
        if (isNoGroupError(error)) {
          // Redis lost its data (a restart without persistence): make the group again and carry on.
          groupReady = false;
          continue;
        }
        this.streak.failed(error);
        if (this.blocking.status === 'ready' && this.options.redis.status === 'ready') {
          await new Promise((resolve) => setTimeout(resolve, 500));
        } else {
          await untilReady(this.blocking, 1000);
          await untilReady(this.options.redis, 1000);
        }
      }
    }
  }

  /** One entry at a time per group: reads, retries and take-overs share this queue. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue
      .then(() => (this.running ? work() : undefined))
      .catch((error: unknown) => {
        if (this.running) this.options.logger.warn('event consumer step failed', { consumer: this.group, error });
      });
    this.queue = next;
    return next;
  }

  /**
   * A batch of entries, in stream order: handled together (one transaction
   * for a batch consumer), acknowledged with one XACK; a failed entry stays
   * pending and is retried by itself after a backoff, or dead-lettered.
   */
  private async processBatch(entries: StreamEntry[]): Promise<void> {
    const { redis, keys, runner, consumer } = this.options;
    const done: string[] = [];
    const batch: { id: string; json: string; event: DomainEvent }[] = [];
    for (const entry of entries) {
      if (!entry) continue;
      const [id, flat] = entry;
      const fields = entryFields(flat);
      const onlyFor = fields.get('onlyFor');
      const json = fields.get('event') ?? '';
      if (onlyFor && onlyFor !== this.group) {
        done.push(id);
        continue;
      }
      try {
        batch.push({ id, json, event: deserializeEvent(json) });
      } catch (error) {
        await this.deadLetter(id, json, 'unknown', 1, error);
      }
    }
    let outcomes: EventOutcome[];
    try {
      outcomes =
        batch.length > 0
          ? await runner.runBatch(
              consumer,
              batch.map((item) => item.event),
            )
          : [];
    } catch (error) {
      if (done.length > 0) await redis.xack(keys.events, this.group, ...done);
      if (!this.running) return;
      // Not the handlers' fault (EventBookkeepingError): give each delivery back to the count, and try again later.
      this.options.logger.warn(
        'event consumer could not read or record handling; retrying without counting the attempt',
        {
          consumer: this.group,
          events: batch.length,
          error,
        },
      );
      const deliveries = await this.deliveries(batch.map((item) => item.id));
      const pipeline = redis.pipeline();
      for (const [index, { id }] of batch.entries()) {
        pipeline.xclaim(
          keys.events,
          this.group,
          this.options.consumerName,
          0,
          id,
          'RETRYCOUNT',
          Math.max(0, deliveries[index] - 1),
          'JUSTID',
        );
      }
      await pipeline.exec();
      for (const [index, { id }] of batch.entries()) {
        this.scheduleRetry(
          id,
          retryDelayMs(Math.max(1, deliveries[index] - 1), this.options.retryBaseMs, this.options.claimIdleMs),
        );
      }
      return;
    }
    const failed: { id: string; json: string; event: DomainEvent; error: unknown }[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'failed') failed.push({ ...batch[index], error: outcome.error });
      else done.push(batch[index].id);
    }
    if (done.length > 0) await redis.xack(keys.events, this.group, ...done);
    if (failed.length === 0 || !this.running) return;
    const deliveries = await this.deliveries(failed.map((item) => item.id));
    for (const [index, { id, json, event, error }] of failed.entries()) {
      if (deliveries[index] >= this.options.maxAttempts)
        await this.deadLetter(id, json, event.id, deliveries[index], error);
      else this.scheduleRetry(id, retryDelayMs(deliveries[index], this.options.retryBaseMs, this.options.claimIdleMs));
    }
  }

  /** How many times the group has delivered each entry (1 on the first run), asked in one round trip. */
  private async deliveries(ids: string[]): Promise<number[]> {
    const pipeline = this.options.redis.pipeline();
    for (const id of ids) pipeline.xpending(this.options.keys.events, this.group, id, id, 1);
    const results = (await pipeline.exec()) ?? [];
    return ids.map((_, index) => {
      const [error, pending] = results[index] ?? [new Error('redis did not answer XPENDING')];
      if (error) throw error;
      return (pending as [string, string, number, number][])[0]?.[3] ?? 1;
    });
  }

  private scheduleRetry(id: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.enqueue(async () => {
        // Only if nobody took it over meanwhile (their claim would have reset its idle time).
        const claimed = (await this.options.redis.xclaim(
          this.options.keys.events,
          this.group,
          this.options.consumerName,
          Math.max(0, delayMs - 50),
          id,
        )) as StreamEntry[];
        const entries = claimed.filter(Boolean);
        if (entries.length > 0) await this.processBatch(entries);
      });
    }, delayMs);
    this.retryTimers.add(timer);
  }

  /** Takes over entries another instance left pending (it died or hung) once they have been idle claimIdleMs. */
  private async claimAbandoned(): Promise<void> {
    const { redis, keys, consumerName, claimIdleMs } = this.options;
    let cursor = '0-0';
    try {
      do {
        const [next, entries] = (await redis.xautoclaim(
          keys.events,
          this.group,
          consumerName,
          claimIdleMs,
          cursor,
          'COUNT',
          this.options.batchSize ?? 200,
        )) as [string, StreamEntry[]];
        if (!this.running) return;
        const claimed = entries.filter(Boolean);
        if (claimed.length > 0) await this.processBatch(claimed);
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    } catch (error) {
      if (!isNoGroupError(error)) throw error;
    }
  }

  private async deadLetter(
    id: string,
    eventJson: string,
    eventId: string,
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const { redis, keys, metrics, logger, runner } = this.options;
    // Recorded first: if Redis fails now, the entry stays pending and is dead-lettered again, which the upsert absorbs.
    if (UUID.test(eventId)) await runner.recordFailure(this.group, eventId, attempts, error, 0, true);
    await redis
      .multi()
      .xadd(
        keys.deadLetters,
        '*',
        'consumer',
        this.group,
        'eventId',
        eventId,
        'event',
        eventJson,
        'error',
        errorMessage(error),
        'attempts',
        String(attempts),
        'failedAt',
        new Date().toISOString(),
        'streamId',
        id,
      )
      .xack(keys.events, this.group, id)
      .exec();
    metrics.deadLettered += 1;
    logger.error('event dead-lettered', { consumer: this.group, eventId, attempts, error });
  }
}

/**
 * Trims the stream up to the oldest entry some group still needs (pending,
 * or not yet delivered): entries every group has acknowledged go.
 */
export async function trimAcknowledged(redis: Redis, keys: StreamKeys, groups: string[]): Promise<void> {
  const delivered = await lastDeliveredIds(redis, keys.events);
  let keepFrom: string | undefined;
  for (const group of groups) {
    const lastDelivered = delivered.get(group);
    if (!lastDelivered) return;
    const summary = (await redis.xpending(keys.events, group)) as [number, string | null, string | null, unknown];
    const oldestNeeded = summary[0] > 0 && summary[1] ? summary[1] : lastDelivered;
    if (keepFrom === undefined || compareIds(oldestNeeded, keepFrom) < 0) keepFrom = oldestNeeded;
  }
  // last-delivered-id itself was acknowledged when nothing is pending, but keeping one entry costs nothing.
  if (keepFrom && keepFrom !== '0-0') await redis.xtrim(keys.events, 'MINID', keepFrom);
}
