import type { DataSource } from 'typeorm';
import type { Logger } from '../logging/logger';
import type { EventConsumer } from './event';
import { EventBookkeepingError, type HandlerRunner } from './handler-runner';
import { retryDelayMs, WakeableLoop } from './loop';
import type { EventMetrics } from './metrics';
import { eventFromRow, OUTBOX_COLUMNS, type OutboxRow } from './outbox';

export interface InlineRelayOptions {
  dataSource: DataSource;
  logger: Logger;
  metrics: EventMetrics;
  runner: HandlerRunner;
  consumers: EventConsumer[];
  /** This process, as the lease holder. */
  instanceId: string;
  pollIntervalMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryCapMs: number;
  /** How long the lease lasts unrenewed: another instance takes over this long after this one stopped answering. */
  leaseMs: number;
  batchSize?: number;
}

interface FailureRow {
  consumer: string;
  eventId: string;
  attempts: number;
  nextAttemptAt: Date;
  deadLetteredAt: Date | null;
}

/**
 * The inline transport: one process at a time (the holder of a lease row)
 * reads the outbox oldest first and runs every subscribed consumer's handler
 * in-process. Per consumer and organization, events run in order: an event
 * waiting for a retry holds back that consumer's later events of the same
 * organization (not other consumers, not other organizations). An event is
 * marked relayed once every consumer handled or dead-lettered it.
 */
export class InlineRelay {
  private readonly loop: WakeableLoop;
  private leaseRenewedAt = 0;

  constructor(private readonly options: InlineRelayOptions) {
    this.loop = new WakeableLoop(() => this.step(), {
      intervalMs: options.pollIntervalMs,
      logger: options.logger,
      failing: 'inline event relay failing; events wait in the outbox',
      recovered: 'inline event relay recovered',
    });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.options.dataSource
      .query(`UPDATE event_relay_leases SET holder = NULL, expires_at = now() WHERE name = 'inline' AND holder = $1`, [this.options.instanceId])
      .catch(() => undefined);
  }

  private async step(): Promise<boolean> {
    return (await this.holdLease()) && this.relayBatch();
  }

  /** Only the lease holder relays; the lease is renewed well before it runs out, and a dead holder's lapses. */
  private async holdLease(): Promise<boolean> {
    const { dataSource, instanceId, leaseMs } = this.options;
    if (Date.now() - this.leaseRenewedAt < leaseMs / 3) return true;
    const rows = (await dataSource.query(
      `INSERT INTO event_relay_leases (name, holder, expires_at) VALUES ('inline', $1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE event_relay_leases.holder IS NULL OR event_relay_leases.holder = EXCLUDED.holder OR event_relay_leases.expires_at < now()
       RETURNING name`,
      [instanceId, leaseMs],
    )) as unknown[];
    this.leaseRenewedAt = rows.length > 0 ? Date.now() : 0;
    return rows.length > 0;
  }

  /** true when a full batch made progress, so the loop goes again at once. */
  private async relayBatch(): Promise<boolean> {
    const { dataSource, metrics, consumers } = this.options;
    const batchSize = this.options.batchSize ?? 200;
    const rows = (await dataSource.query(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY position LIMIT $1`, [batchSize])) as OutboxRow[];
    metrics.relayLagMs = rows.length > 0 ? Math.max(0, Date.now() - new Date(rows[0].occurredAt).getTime()) : 0;
    if (rows.length === 0) return false;

    const ids = rows.map((row) => row.id);
    const handled = new Set(
      ((await dataSource.query(`SELECT consumer, event_id AS "eventId" FROM event_consumptions WHERE event_id = ANY($1::uuid[])`, [ids])) as {
        consumer: string;
        eventId: string;
      }[]).map((row) => `${row.consumer}/${row.eventId}`),
    );
    const failures = new Map(
      ((await dataSource.query(
        `SELECT consumer, event_id AS "eventId", attempts, next_attempt_at AS "nextAttemptAt", dead_lettered_at AS "deadLetteredAt"
           FROM event_failures WHERE event_id = ANY($1::uuid[])`,
        [ids],
      )) as FailureRow[]).map((row) => [`${row.consumer}/${row.eventId}`, row]),
    );

    // Consumers run side by side, so one slow handler (a hanging mail server) holds up only its own consumer.
    const settled = await Promise.allSettled(consumers.map((consumer) => this.consume(consumer, rows, handled, failures)));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const outcomes = settled.map((result) => (result as PromiseFulfilledResult<Awaited<ReturnType<InlineRelay['consume']>>>).value);
    const unfinished = new Set(outcomes.flatMap((outcome) => [...outcome.unfinished]));
    const progressed = outcomes.some((outcome) => outcome.progressed);
    const relayed = rows.filter((row) => !unfinished.has(row.id)).map((row) => row.position);
    if (relayed.length > 0) {
      // Every consumer is done with these: relayed and settled at once (only the Redis transport has to wait for consumers after relaying).
      await dataSource.query(`UPDATE outbox SET relayed_at = now(), settled_at = now() WHERE position = ANY($1::bigint[])`, [relayed]);
      metrics.relayed += relayed.length;
    }
    return progressed && rows.length === batchSize;
  }

  /** One consumer's pass over the batch, in outbox order; returns the events it has not finished with. */
  private async consume(
    consumer: EventConsumer,
    rows: OutboxRow[],
    handled: Set<string>,
    failures: Map<string, FailureRow>,
  ): Promise<{ unfinished: Set<string>; progressed: boolean }> {
    const heldBack = new Set<string>();
    const unfinished = new Set<string>();
    let progressed = false;
    for (const row of rows) {
      if (!consumer.handlers[row.type]) continue;
      const key = `${consumer.name}/${row.id}`;
      if (handled.has(key)) continue;
      const failure = failures.get(key);
      if (failure?.deadLetteredAt) continue;
      const lane = row.organizationId ?? '-';
      if (heldBack.has(lane) || (failure && new Date(failure.nextAttemptAt).getTime() > Date.now())) {
        heldBack.add(lane);
        unfinished.add(row.id);
        continue;
      }
      // Renewed before each handler (a no-op when fresh), so the lease outlasts any run that the handler timeout allows.
      if (!(await this.holdLease())) break;
      progressed = true;
      try {
        await this.options.runner.run(consumer, eventFromRow(row), { checkedUnhandled: true });
      } catch (error) {
        // The database, not the handler, failed: no attempt is counted; the whole step is retried at the next poll.
        if (error instanceof EventBookkeepingError) throw error;
        if (!(await this.recordFailure(consumer.name, row.id, (failure?.attempts ?? 0) + 1, error))) {
          heldBack.add(lane);
          unfinished.add(row.id);
        }
      }
    }
    return { unfinished, progressed };
  }

  /** Schedules the next attempt, or dead-letters after the last; true when dead-lettered. */
  private async recordFailure(consumer: string, eventId: string, attempts: number, error: unknown): Promise<boolean> {
    const { runner, maxAttempts, retryBaseMs, retryCapMs, metrics, logger } = this.options;
    const dead = attempts >= maxAttempts;
    await runner.recordFailure(consumer, eventId, attempts, error, dead ? 0 : retryDelayMs(attempts, retryBaseMs, retryCapMs), dead);
    if (dead) {
      metrics.deadLettered += 1;
      logger.error('event dead-lettered', { consumer, eventId, attempts, error });
    }
    return dead;
  }
}
