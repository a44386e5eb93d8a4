import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config/config';
import type { ReadinessCheck } from '../http/readiness';
import type { Logger } from '../logging/logger';
import { StreamDeadLetters, TableDeadLetters, type DeadLetters } from './dead-letters';
import type { DomainEvent, EventConsumer } from './event';
import { HandlerRunner } from './handler-runner';
import { InlineRelay } from './inline-relay';
import { EventMetrics } from './metrics';
import { EventPublisher, handlerPairs, OutboxCommitSubscriber, WAITING_PAIRS } from './outbox';
import { streamKeys, subscribe, untilReady, type StreamKeys } from './redis';
import { GroupWorker, trimAcknowledged } from './redis-consumers';
import { RedisRedelivery } from './redis-redelivery';
import { RedisRelay } from './redis-relay';

const HOUSEKEEPING_INTERVAL_MS = 30_000;

export interface EventBusOptions {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  /** The process's Redis client (REDIS_URL); required by the redis-streams transport. Its owner disconnects it. */
  redis?: Redis;
}

interface Transport {
  wake(): void;
  stop(): Promise<void>;
}

/**
 * The event bus of one process: the publisher services write with, and the
 * transport that carries committed events to every consumer (inline, or
 * Redis Streams when configured). Built before the modules (they publish),
 * started after them (their consumers are known then).
 */
export class EventBus {
  /** A statement that wrote an event by itself (no transaction, so no commit to hear) reports it here. */
  readonly publisher = new EventPublisher((origin) => {
    this.metrics.published += 1;
    if (origin.afterResponse) origin.afterResponse(() => this.committed());
    else this.committed();
  });
  readonly metrics = new EventMetrics();
  readonly deadLetters: DeadLetters;
  /** This process within consumer groups and the inline lease: host, pid and a random part (pids repeat in containers). */
  readonly instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly redis: Redis | undefined;
  private readonly keys: StreamKeys;
  private transport: Transport | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private housekeepingRun: Promise<void> = Promise.resolve();
  private consumers: EventConsumer[] = [];
  private running: EventConsumer[] = [];
  private readonly relayedListeners = new Set<(events: DomainEvent[]) => void>();
  /** Runs the consumers' handlers; set by start(). */
  runner: HandlerRunner | undefined;

  constructor(private readonly options: EventBusOptions) {
    const { config, dataSource } = options;
    this.keys = streamKeys(config.REDIS_KEY_PREFIX);
    if (config.eventsTransport === 'redis-streams') {
      if (!options.redis) throw new Error('The redis-streams transport needs a Redis client (REDIS_URL)');
      this.redis = options.redis;
      this.deadLetters = new StreamDeadLetters(this.redis, this.keys);
    } else {
      this.deadLetters = new TableDeadLetters(dataSource);
    }
    dataSource.subscribers.push(new OutboxCommitSubscriber(this.metrics, () => this.committed()));
  }

  /**
   * A commit with events wakes this process's relay; a process that does not
   * relay (ROLE=api, or not started yet) wakes the workers' through Redis, so
   * they need not wait for their next poll. Fire and forget: the poll is the
   * fallback when Redis is away.
   */
  private committed(): void {
    if (this.transport) this.transport.wake();
    else this.redis?.publish(this.keys.wake, '1').catch(() => undefined);
  }

  /** The deployment's consumers, as given to declare() or start(). */
  get startedConsumers(): readonly EventConsumer[] {
    return this.consumers;
  }

  /** The consumers whose handlers run in this process: none before start() (and on ROLE=api). */
  get runningConsumers(): readonly EventConsumer[] {
    return this.running;
  }

  get transportName(): 'inline' | 'redis-streams' {
    return this.redis ? 'redis-streams' : 'inline';
  }

  /** What /readyz asks besides the database. */
  get readinessChecks(): ReadinessCheck[] {
    const redis = this.redis;
    // A client that is (re)connecting gets a moment: no offline queue means a command now would fail at once.
    return redis ? [{ name: 'redis', check: () => untilReady(redis, 1000).then(() => redis.ping()) }] : [];
  }

  /** Resolves once Redis is connected, or after `timeoutMs` (a Redis that is down does not stop the app: events wait in the outbox). */
  async connected(timeoutMs: number): Promise<void> {
    if (this.redis) await untilReady(this.redis, timeoutMs);
  }

  /**
   * On the inline transport, `listener` is told of every batch this process
   * relays, once, in outbox order (the live feed of subscriptions); the
   * Redis transport has its stream for that. Returns the unsubscribe.
   */
  onRelayed(listener: (events: DomainEvent[]) => void): () => void {
    this.relayedListeners.add(listener);
    return () => this.relayedListeners.delete(listener);
  }

  /**
   * Names the deployment's consumers without running any (ROLE=api): what
   * backlog() counts. Each consumer's name must be unique.
   */
  declare(consumers: EventConsumer[]): void {
    const names = consumers.map((consumer) => consumer.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate) throw new Error(`Two event consumers are named ${duplicate}`);
    this.consumers = consumers;
  }

  /**
   * Starts relaying, consuming and housekeeping. `consumers` are the
   * deployment's (an event is settled, and the stream trimmed, only once
   * each has handled it); `running` names those whose handlers run here
   * (all of them by default; a subset only on Redis Streams, where each is
   * a consumer group other workers may run).
   */
  start(consumers: EventConsumer[], running: readonly string[] = consumers.map((consumer) => consumer.name)): void {
    this.declare(consumers);
    const names = consumers.map((consumer) => consumer.name);
    this.running = consumers.filter((consumer) => running.includes(consumer.name));
    if (!this.redis && this.running.length !== consumers.length)
      throw new Error(
        'The inline transport runs every consumer in the lease holder; only Redis Streams can split them',
      );
    const { config, logger, dataSource } = this.options;
    const runner = new HandlerRunner(dataSource, logger, this.metrics, config.EVENTS_HANDLER_TIMEOUT_MS);
    this.runner = runner;
    const retry = { maxAttempts: config.EVENTS_MAX_ATTEMPTS, retryBaseMs: config.EVENTS_RETRY_BASE_MS };
    if (this.redis) {
      const relay = new RedisRelay({
        dataSource,
        redis: this.redis,
        keys: this.keys,
        logger,
        metrics: this.metrics,
        pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS,
      });
      const redelivery = new RedisRedelivery({
        dataSource,
        redis: this.redis,
        keys: this.keys,
        consumers,
        logger,
        metrics: this.metrics,
        redeliverAfterMs: config.EVENTS_REDELIVER_AFTER_MS,
        wakeRelay: () => relay.loop.wake(),
      });
      const workers = this.running.map(
        (consumer) =>
          new GroupWorker({
            redis: this.redis!,
            keys: this.keys,
            consumer,
            consumerName: this.instanceId,
            runner,
            metrics: this.metrics,
            logger,
            ...retry,
            claimIdleMs: config.EVENTS_CLAIM_IDLE_MS,
            onGroupCreated: () => redelivery.rebuild(),
          }),
      );
      relay.loop.start();
      redelivery.loop.start();
      for (const worker of workers) worker.start();
      const unsubscribe = subscribe(this.redis, this.keys.wake, () => relay.loop.wake());
      this.transport = {
        wake: () => relay.loop.wake(),
        stop: async () => {
          unsubscribe();
          await redelivery.loop.stop();
          await relay.stop();
          await Promise.all(workers.map((worker) => worker.stop()));
        },
      };
    } else {
      const relay = new InlineRelay({
        dataSource,
        logger,
        metrics: this.metrics,
        runner,
        consumers,
        instanceId: this.instanceId,
        pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS,
        ...retry,
        retryCapMs: config.EVENTS_CLAIM_IDLE_MS,
        leaseMs: config.EVENTS_CLAIM_IDLE_MS,
        onRelayed: (events) => {
          for (const listener of this.relayedListeners) listener(events);
        },
      });
      relay.start();
      this.transport = relay;
    }
    this.housekeeping = setInterval(() => {
      this.housekeepingRun = this.housekeepIfDue().then(
        () => undefined,
        (error: unknown) => void logger.warn('event housekeeping failed', { error }),
      );
    }, HOUSEKEEPING_INTERVAL_MS);
    this.housekeeping.unref();
    logger.info('event bus started', {
      transport: this.transportName,
      consumers: this.running.map((consumer) => consumer.name),
      ...(this.running.length < names.length ? { elsewhere: names.filter((name) => !running.includes(name)) } : {}),
      instance: this.instanceId,
    });
  }

  /**
   * How many (event, consumer) pairs are still to be handled among the events
   * in the outbox: neither handled nor dead-lettered. 0 means every consumer
   * has caught up.
   */
  async backlog(): Promise<number> {
    const [row] = (await this.options.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox o CROSS JOIN LATERAL (SELECT 1 FROM ${WAITING_PAIRS}) w`,
      handlerPairs(this.consumers),
    )) as [{ n: number }];
    return row.n;
  }

  /** Stops relaying and consuming; handlers in flight finish, unacknowledged events stay for others. */
  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    await this.transport?.stop();
    this.transport = undefined;
    await this.housekeepingRun;
  }

  /**
   * Housekeeping once per interval across the fleet, not in every instance:
   * the instance that takes the `housekeeping` lease row (free once the last
   * run's interval is over) runs it, the others skip this round. Answers
   * whether this instance ran it.
   */
  async housekeepIfDue(intervalMs = HOUSEKEEPING_INTERVAL_MS): Promise<boolean> {
    // A little under the interval, so the instance that ran last finds it free at its next tick and usually keeps the job.
    const rows = (await this.options.dataSource.query(
      `INSERT INTO event_relay_leases (name, holder, expires_at) VALUES ('housekeeping', $1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE event_relay_leases.expires_at <= now()
       RETURNING name`,
      [this.instanceId, Math.floor(intervalMs * 0.9)],
    )) as unknown[];
    if (rows.length === 0) return false;
    await this.housekeep();
    return true;
  }

  /**
   * Forgets what is past retention, and trims what every consumer group has
   * acknowledged. An event some consumer has still to handle (not settled)
   * stays, and so do the handled records of the consumers that did: it may
   * have to be relayed again.
   */
  async housekeep(): Promise<void> {
    const { dataSource, config } = this.options;
    const retention = config.eventsOutboxRetentionSeconds;
    await dataSource.query(
      `DELETE FROM outbox o WHERE relayed_at < now() - $1 * interval '1 second' AND settled_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM event_failures f WHERE f.event_id = o.id)`,
      [retention],
    );
    await dataSource.query(
      `DELETE FROM event_consumptions c WHERE handled_at < now() - $1 * interval '1 second'
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = c.event_id AND o.settled_at IS NULL)`,
      [retention],
    );
    if (this.redis)
      await trimAcknowledged(
        this.redis,
        this.keys,
        this.consumers.map((consumer) => consumer.name),
      );
  }
}
