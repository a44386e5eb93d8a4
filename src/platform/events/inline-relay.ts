import type { DataSource } from 'typeorm';
import { ReservedConnection } from '../database/reserved-connection';
import type { Logger } from '../logging/logger';
import type { DomainEvent, EventConsumer } from './event';
import type { HandlerRunner } from './handler-runner';
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
  /**
   * Events some consumer handles per batch (200); events no consumer handles ride along, up to 5× this many rows in
   * all. Behind a backlog the batch doubles after each full one, up to `maxBatchSize` (1,000), and is back to this
   * size after the first that is not full.
   */
  batchSize?: number;
  maxBatchSize?: number;
  /** Told of each batch once it is relayed (every consumer done with it), in outbox order: the live feed's hook. */
  onRelayed?: (events: DomainEvent[]) => void;
}

const BATCH_SIZE = 200;
const MAX_BATCH_SIZE = 1_000;

/** A consumer's failed attempts at an event: how many, and whether the next is due yet or the consumer gave up. */
interface FailureState {
  consumer: string;
  attempts: number;
  waiting: boolean;
  deadLettered: boolean;
}

/** An outbox row with what every consumer made of it so far, read in the same statement. */
interface PendingRow extends OutboxRow {
  handledBy: string[];
  failures: FailureState[];
}

/**
 * The inline transport: one process at a time (the holder of a lease row)
 * reads the outbox oldest first and runs every subscribed consumer's handler
 * in-process (a batch is `batchSize` events some consumer handles, with those
 * no consumer handles between them). Per consumer and organization, events
 * run in order: an event waiting for a retry holds back that consumer's
 * later events of the same organization (not other consumers, not other
 * organizations). An event is marked relayed once every consumer handled or
 * dead-lettered it.
 */
export class InlineRelay {
  private readonly loop: WakeableLoop;
  private leaseRenewedAt = 0;
  /** The next batch's size: the base, or more while a backlog lasts (see batchSize). */
  private batchSize: number;
  /**
   * The relay's own statements (the lease, the batch read, marking relayed) do not queue for the pool behind
   * requests: under a write burst each waited there 100-250 ms, three times a cycle. The handlers' transactions
   * still take pool connections, one per consumer, side by side.
   */
  private readonly connection: ReservedConnection;

  constructor(private readonly options: InlineRelayOptions) {
    this.connection = new ReservedConnection(options.dataSource);
    this.batchSize = options.batchSize ?? BATCH_SIZE;
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

  /** Stops the loop, gives the lease up and the connection back. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.connection.release();
    await this.options.dataSource
      .query(`UPDATE event_relay_leases SET holder = NULL, expires_at = now() WHERE name = 'inline' AND holder = $1`, [
        this.options.instanceId,
      ])
      .catch(() => undefined);
  }

  private async step(): Promise<boolean> {
    return (await this.holdLease()) && this.relayBatch();
  }

  /** Only the lease holder relays; the lease is renewed well before it runs out, and a dead holder's lapses. */
  private async holdLease(): Promise<boolean> {
    const { instanceId, leaseMs } = this.options;
    if (Date.now() - this.leaseRenewedAt < leaseMs / 3) return true;
    const rows = (await this.connection.run((manager) =>
      manager.query(
        `INSERT INTO event_relay_leases (name, holder, expires_at) VALUES ('inline', $1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE event_relay_leases.holder IS NULL OR event_relay_leases.holder = EXCLUDED.holder OR event_relay_leases.expires_at < now()
       RETURNING name`,
        [instanceId, leaseMs],
      ),
    )) as unknown[];
    this.leaseRenewedAt = rows.length > 0 ? Date.now() : 0;
    return rows.length > 0;
  }

  /** true when a full batch made progress, so the loop goes again at once. */
  private async relayBatch(): Promise<boolean> {
    const { metrics, consumers } = this.options;
    const { batchSize } = this;
    const limit = batchSize * RIDERS_PER_HANDLED;
    const handledTypes = [...new Set(consumers.flatMap((consumer) => Object.keys(consumer.handlers)))];
    // One statement: the rows, who handled each, and each consumer's failed attempts. A batch is `batchSize` events
    // some consumer handles; the events no consumer handles between them (notification.created, for the live feed
    // only) ride along, up to `limit` rows in all: they cost a row each, not a consumer pass, and once took two
    // thirds of every batch of the q3 bench (two per comment), so the relay fell behind while the load lasted.
    // The LIMIT is a subquery (the rows up to the batchSize-th handled one): the planner then costs a fraction of the
    // scan, as for a constant LIMIT; a join with that bound made it cost the whole scan and JIT-compile every read.
    const rows = (await this.connection.run((manager) =>
      manager.query(
        `SELECT ${OUTBOX_COLUMNS},
              CASE WHEN o.type = ANY($2::text[])
                THEN array(SELECT c.consumer FROM event_consumptions c WHERE c.event_id = o.id) ELSE '{}' END AS "handledBy",
              CASE WHEN o.type = ANY($2::text[])
                THEN coalesce((SELECT json_agg(json_build_object('consumer', f.consumer, 'attempts', f.attempts,
                                   'waiting', f.next_attempt_at > now(), 'deadLettered', f.dead_lettered_at IS NOT NULL))
                            FROM event_failures f WHERE f.event_id = o.id), '[]'::json)
                ELSE '[]'::json END AS failures
         FROM outbox o WHERE o.relayed_at IS NULL ORDER BY o.position
        LIMIT (SELECT count(*) FROM (
                 SELECT o.type = ANY($2::text[]) AS handled,
                        count(*) FILTER (WHERE o.type = ANY($2::text[])) OVER (ORDER BY o.position) AS seen
                   FROM outbox o WHERE o.relayed_at IS NULL ORDER BY o.position LIMIT $3) up_to
                WHERE seen < $1 OR (seen = $1 AND handled))`,
        [batchSize, handledTypes, limit],
      ),
    )) as PendingRow[];
    metrics.relayLagMs = rows.length > 0 ? Math.max(0, Date.now() - new Date(rows[0].occurredAt).getTime()) : 0;
    if (rows.length === 0) return false;

    // Consumers run side by side, so one slow handler (a hanging mail server) holds up only its own consumer.
    const settled = await Promise.allSettled(consumers.map((consumer) => this.consume(consumer, rows)));
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const outcomes = settled.map(
      (result) => (result as PromiseFulfilledResult<Awaited<ReturnType<InlineRelay['consume']>>>).value,
    );
    const unfinished = new Set(outcomes.flatMap((outcome) => [...outcome.unfinished]));
    const progressed = outcomes.some((outcome) => outcome.progressed);
    const relayed = rows.filter((row) => !unfinished.has(row.id)).map((row) => row.position);
    if (relayed.length > 0) {
      // Every consumer is done with these: relayed and settled at once (only the Redis transport has to wait for consumers after relaying).
      await this.connection.run((manager) =>
        manager.query(`UPDATE outbox SET relayed_at = now(), settled_at = now() WHERE position = ANY($1::bigint[])`, [
          relayed,
        ]),
      );
      metrics.relayed += relayed.length;
      const relayedIds = new Set(relayed);
      this.options.onRelayed?.(rows.filter((row) => relayedIds.has(row.position)).map(eventFromRow));
    }
    // Relaying is progress too: a full batch of events no consumer handles (notification.created, read only by the
    // live feed) must not wait for the next poll, or a backlog of them drains one batch per poll interval.
    const full = rows.length === limit || rows.filter((row) => handledTypes.includes(row.type)).length === batchSize;
    // A full batch means a backlog: each round trip of a cycle (read, each consumer's transaction, marking relayed)
    // then carries more events. Under the q3 bench's ~1,300 comments/s, batches of 200 left the outbox empty
    // 1.4-1.8 s after the load; up to 1,000, 0.3 s.
    const base = this.options.batchSize ?? BATCH_SIZE;
    this.batchSize = full ? Math.min(batchSize * 2, Math.max(base, this.options.maxBatchSize ?? MAX_BATCH_SIZE)) : base;
    return (progressed || relayed.length > 0) && full;
  }

  /**
   * One consumer's pass over the batch, in outbox order: the events it has
   * to handle go to it together (one transaction for a batch consumer), but
   * an event being retried runs alone, and a lane (consumer and
   * organization) whose event waits for a retry holds back its later ones.
   * Returns the events it has not finished with.
   */
  private async consume(
    consumer: EventConsumer,
    rows: PendingRow[],
  ): Promise<{ unfinished: Set<string>; progressed: boolean }> {
    const heldBack = new Set<string>();
    const unfinished = new Set<string>();
    let progressed = false;
    let segment: { row: PendingRow; failure: FailureState | undefined }[] = [];

    const flush = async (): Promise<boolean> => {
      const batch = segment.filter(({ row }) => !heldBack.has(laneOf(row)));
      for (const { row } of segment) if (heldBack.has(laneOf(row))) unfinished.add(row.id);
      segment = [];
      if (batch.length === 0) return true;
      // Renewed before each run (a no-op when fresh), so the lease outlasts any run that the handler timeout allows.
      if (!(await this.holdLease())) {
        for (const { row } of batch) unfinished.add(row.id);
        return false;
      }
      progressed = true;
      // A bookkeeping failure (the database, not a handler) rejects: no attempt is counted; the whole step is retried at the next poll.
      const outcomes = await this.options.runner.runBatch(
        consumer,
        batch.map(({ row }) => eventFromRow(row)),
        { checkedUnhandled: true, lane: (event) => event.organizationId ?? '-' },
      );
      for (const [index, outcome] of outcomes.entries()) {
        const { row, failure } = batch[index];
        if (outcome.status === 'held') {
          unfinished.add(row.id);
        } else if (outcome.status === 'failed') {
          if (!(await this.recordFailure(consumer.name, row.id, (failure?.attempts ?? 0) + 1, outcome.error))) {
            heldBack.add(laneOf(row));
            unfinished.add(row.id);
          }
        }
      }
      return true;
    };

    for (const row of rows) {
      if (!consumer.handlers[row.type] || row.handledBy.includes(consumer.name)) continue;
      const failure = row.failures.find((entry) => entry.consumer === consumer.name);
      if (failure?.deadLettered) continue;
      const lane = laneOf(row);
      if (heldBack.has(lane) || failure?.waiting) {
        heldBack.add(lane);
        unfinished.add(row.id);
        continue;
      }
      if (failure) {
        // A retry runs alone, after what came before it, so it neither fails a batch again nor jumps its lane.
        if (!(await flush())) return { unfinished: addAll(unfinished, rows), progressed };
        segment = [{ row, failure }];
        if (!(await flush())) return { unfinished: addAll(unfinished, rows), progressed };
        continue;
      }
      segment.push({ row, failure });
    }
    if (!(await flush())) return { unfinished: addAll(unfinished, rows), progressed };
    return { unfinished, progressed };
  }

  /** Schedules the next attempt, or dead-letters after the last; true when dead-lettered. */
  private async recordFailure(consumer: string, eventId: string, attempts: number, error: unknown): Promise<boolean> {
    const { runner, maxAttempts, retryBaseMs, retryCapMs, metrics, logger } = this.options;
    const dead = attempts >= maxAttempts;
    await runner.recordFailure(
      consumer,
      eventId,
      attempts,
      error,
      dead ? 0 : retryDelayMs(attempts, retryBaseMs, retryCapMs),
      dead,
    );
    if (dead) {
      metrics.deadLettered += 1;
      logger.error('event dead-lettered', { consumer, eventId, attempts, error });
    }
    return dead;
  }
}

/** How many outbox rows a batch may hold per event a consumer handles: the rest are events no consumer handles. */
const RIDERS_PER_HANDLED = 5;

/** A consumer handles the events of one organization in outbox order. */
function laneOf(row: OutboxRow): string {
  return row.organizationId ?? '-';
}

/** The lease was lost mid-pass: what this consumer did not get to stays unfinished (the new holder finds it unhandled). */
function addAll(unfinished: Set<string>, rows: OutboxRow[]): Set<string> {
  for (const row of rows) unfinished.add(row.id);
  return unfinished;
}
