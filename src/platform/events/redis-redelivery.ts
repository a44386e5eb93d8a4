import type Redis from 'ioredis';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logging/logger';
import type { EventConsumer } from './event';
import { WakeableLoop } from './loop';
import type { EventMetrics } from './metrics';
import { deserializeEvent, handlerPairs, WAITING_PAIRS } from './outbox';
import { compareIds, createGroup, entryFields, lastDeliveredIds, type StreamKeys } from './redis';

/** Any constant unlike the relay's and the migrations' advisory locks. */
const REDELIVERY_LOCK = 0x6777_7264;

export interface RedisRedeliveryOptions {
  dataSource: DataSource;
  redis: Redis;
  keys: StreamKeys;
  consumers: EventConsumer[];
  logger: Logger;
  metrics: EventMetrics;
  /** How long after its relay an event no consumer lost track of may stay unhandled before Redis is asked (EVENTS_REDELIVER_AFTER_MS). */
  redeliverAfterMs: number;
  /** Wakes the relay, which publishes the events handed back to it. */
  wakeRelay: () => void;
  batchSize?: number;
}

interface UnsettledRow {
  position: string;
  id: string;
  streamId: string | null;
  /** The consumers that still have to handle it. */
  waiting: string[];
}

type StreamEntry = [id: string, fields: string[]];

interface BatchOutcome {
  rebuilt: boolean;
  requeued: number;
  /** The position to continue after; undefined when the sweep is done. */
  next: string | undefined;
}

/**
 * Redis carries events; the outbox is their record. An event relayed but not
 * yet handled by every consumer with a handler for it stays "unsettled" in
 * the outbox. Once it has been so for `redeliverAfterMs`, Redis is asked
 * whether its entry is still on its way to each consumer waiting for it (in
 * the stream, and either not yet read by the group or pending in it); if not
 * (Redis restarted empty, the stream was deleted or trimmed, a failover lost
 * it), the row is handed back to the relay, which publishes it again, and
 * the consumers' handled records absorb any duplicate. A consumer group that
 * had to be created again (or a `rebuild()` call: a worker found its group
 * gone) makes the next sweep look at every unsettled event at once, not only
 * at those past the bound. Settled rows leave the partial index the sweep
 * reads, so each sweep costs the backlog plus the last few seconds of
 * events. One instance sweeps at a time (an advisory lock per batch).
 */
export class RedisRedelivery {
  readonly loop: WakeableLoop;
  private rebuildRequested = false;
  private readonly pairs: [string[], string[]];

  constructor(private readonly options: RedisRedeliveryOptions) {
    this.pairs = handlerPairs(options.consumers);
    this.loop = new WakeableLoop(() => this.sweep(), {
      intervalMs: Math.min(5000, Math.max(100, Math.floor(options.redeliverAfterMs / 4))),
      logger: options.logger,
      failing: 'event redelivery check failing; events wait in the outbox',
      recovered: 'event redelivery check recovered',
    });
  }

  /** Redis lost a consumer group, and perhaps the entries with it: look at every unsettled event now. */
  rebuild(): void {
    this.rebuildRequested = true;
    this.loop.wake();
  }

  private async sweep(): Promise<boolean> {
    const { dataSource, redis, metrics, logger, wakeRelay } = this.options;
    // Nothing can be checked while Redis is away; the relay reports the outage.
    if (redis.status !== 'ready') return false;
    let rebuilt = this.rebuildRequested;
    this.rebuildRequested = false;
    let after = '0';
    let requeued = 0;
    try {
      for (;;) {
        const batch = await dataSource.transaction((manager) => this.sweepBatch(manager, after, rebuilt));
        if (!batch) {
          // Another instance is sweeping, perhaps not everything: a rebuild asked of this one is done at its next turn.
          this.rebuildRequested ||= rebuilt;
          break;
        }
        rebuilt = batch.rebuilt;
        requeued += batch.requeued;
        if (batch.next === undefined) break;
        after = batch.next;
      }
    } catch (error) {
      this.rebuildRequested ||= rebuilt;
      throw error;
    } finally {
      if (requeued > 0) {
        metrics.redelivered += requeued;
        logger.warn('events relayed again: redis lost them before every consumer had handled them', {
          events: requeued,
          groupsRebuilt: rebuilt,
        });
        wakeRelay();
      }
    }
    return false;
  }

  private async sweepBatch(
    manager: EntityManager,
    after: string,
    rebuilding: boolean,
  ): Promise<BatchOutcome | undefined> {
    const batchSize = this.options.batchSize ?? 500;
    const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [REDELIVERY_LOCK])) as [
      { locked: boolean },
    ];
    if (!locked) return undefined;
    const groups = await this.groups();
    const rebuilt = rebuilding || groups.created;
    const rows = (await manager.query(
      `SELECT o.position, o.id, o.stream_id AS "streamId", array(SELECT s.consumer FROM ${WAITING_PAIRS}) AS waiting
         FROM outbox o
        WHERE o.relayed_at IS NOT NULL AND o.settled_at IS NULL AND o.position > $3
          AND ($4::boolean OR o.relayed_at < now() - $5 * interval '1 millisecond')
        ORDER BY o.position
        LIMIT $6`,
      [...this.pairs, after, rebuilt, this.options.redeliverAfterMs, batchSize],
    )) as UnsettledRow[];

    const settled = rows.filter((row) => row.waiting.length === 0).map((row) => row.position);
    if (settled.length > 0)
      await manager.query(`UPDATE outbox SET settled_at = now() WHERE position = ANY($1::bigint[])`, [settled]);
    const lost = await this.lost(
      rows.filter((row) => row.waiting.length > 0),
      groups.lastDelivered,
    );
    let requeued = 0;
    if (lost.length > 0) {
      // Asked again under the update: a consumer that finished since the first look (and acknowledged, so Redis said "gone") is not waited for.
      const [back] = (await manager.query(
        `UPDATE outbox o SET relayed_at = NULL, stream_id = NULL
          WHERE o.position = ANY($3::bigint[]) AND EXISTS (SELECT 1 FROM ${WAITING_PAIRS})
          RETURNING o.position`,
        [...this.pairs, lost],
      )) as [unknown[], number];
      requeued = back.length;
    }
    return { rebuilt, requeued, next: rows.length === batchSize ? rows[rows.length - 1].position : undefined };
  }

  /** Each consumer's group with the last entry it was handed; a group Redis does not have is created (reading the stream from its start). */
  private async groups(): Promise<{ lastDelivered: Map<string, string>; created: boolean }> {
    const { redis, keys, consumers } = this.options;
    const lastDelivered = await lastDeliveredIds(redis, keys.events);
    let created = false;
    for (const { name } of consumers) {
      if (lastDelivered.has(name)) continue;
      await createGroup(redis, keys.events, name);
      // Missing a moment ago, whoever made it since: the entries it held may be gone.
      created = true;
      lastDelivered.set(name, '0-0');
    }
    return { lastDelivered, created };
  }

  /** The positions of rows whose entry no longer reaches a consumer waiting for it: gone from the stream, or read by the group and no longer pending. */
  private async lost(rows: UnsettledRow[], lastDelivered: Map<string, string>): Promise<string[]> {
    const { redis, keys } = this.options;
    const gone = new Set(rows.filter((row) => !row.streamId));
    const probes: { row: UnsettledRow; entry: boolean }[] = [];
    const pipeline = redis.pipeline();
    for (const row of rows) {
      if (!row.streamId) continue;
      pipeline.xrange(keys.events, row.streamId, row.streamId);
      probes.push({ row, entry: true });
      for (const consumer of row.waiting) {
        // Past the group's last delivered id the entry is still to be read; at or before it, it must be pending to be on its way.
        if (compareIds(row.streamId, lastDelivered.get(consumer) ?? '0-0') > 0) continue;
        pipeline.xpending(keys.events, consumer, row.streamId, row.streamId, 1);
        probes.push({ row, entry: false });
      }
    }
    if (probes.length === 0) return [...gone].map((row) => row.position);
    const results = (await pipeline.exec()) ?? [];
    if (results.length !== probes.length) throw new Error('redis did not answer every redelivery check');
    probes.forEach(({ row, entry }, index) => {
      const [error, result] = results[index];
      if (error) throw error;
      const found = result as StreamEntry[] | unknown[];
      if (entry ? !carries(found as StreamEntry[], row.id) : found.length === 0) gone.add(row);
    });
    return [...gone].map((row) => row.position);
  }
}

/** The entry is there and is this event (not another stream's entry under the same id after Redis started over). */
function carries(entries: StreamEntry[], eventId: string): boolean {
  const [entry] = entries;
  if (!entry) return false;
  try {
    return deserializeEvent(entryFields(entry[1]).get('event') ?? '').id === eventId;
  } catch {
    return false;
  }
}
