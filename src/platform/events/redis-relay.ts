import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { ReservedConnection } from '../database/reserved-connection';
import type { Logger } from '../logging/logger';
import { handOffSpans } from './event-spans';
import { WakeableLoop } from './loop';
import type { EventMetrics } from './metrics';
import { eventFromRow, OUTBOX_COLUMNS, serializeEvent, type OutboxRow } from './outbox';
import type { StreamKeys } from './redis';

/** Any constant works; it only has to be the same in every instance (and unlike our other advisory locks). */
const RELAY_LOCK = 0x6777_7265;
/**
 * How soon a relay that found another instance relaying looks again. The
 * other read its batch before this instance's commit (or it would hold the
 * rows), and the commit woke only this instance's relay: without a second
 * look the event would wait for the next commit or poll.
 */
const LOCK_BUSY_RETRY_MS = 20;

export interface RedisRelayOptions {
  dataSource: DataSource;
  redis: Redis;
  keys: StreamKeys;
  logger: Logger;
  metrics: EventMetrics;
  pollIntervalMs: number;
  batchSize?: number;
}

/**
 * Moves committed outbox rows to the stream, oldest first. With several
 * instances relaying, a transaction-scoped advisory lock lets one relay at a
 * time (so the stream keeps the outbox's order), and the rows are locked
 * FOR UPDATE SKIP LOCKED and marked relayed in the same transaction: a row is
 * never XADDed by two relays. If Redis fails, the transaction rolls back and
 * the rows wait for the next try. The one remaining window (XADD succeeded,
 * then the commit failed) re-publishes a batch, which the consumers' handled
 * records absorb. A row is relayed again when Redis loses its entry before
 * every consumer handled it (RedisRedelivery).
 */
export class RedisRelay {
  /** Start and wake the relay through its loop; stop it with stop(). */
  readonly loop: WakeableLoop;
  private retry: NodeJS.Timeout | undefined;
  /** Its transactions do not queue for the pool behind requests (ReservedConnection). */
  private readonly connection: ReservedConnection;

  constructor(private readonly options: RedisRelayOptions) {
    this.connection = new ReservedConnection(options.dataSource);
    this.loop = new WakeableLoop(() => this.relayBatch(), {
      intervalMs: options.pollIntervalMs,
      logger: options.logger,
      failing: 'event relay to redis failing; events wait in the outbox',
      recovered: 'event relay to redis recovered',
    });
  }

  /** Stops the loop and gives its connection back. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.connection.release();
  }

  /** Wakes the loop once after LOCK_BUSY_RETRY_MS (one timer at a time; a wake after stop is a no-op). */
  private retryShortly(): void {
    this.options.logger.debug('another instance is relaying events; looking again shortly', {
      retryMs: LOCK_BUSY_RETRY_MS,
    });
    this.retry ??= setTimeout(() => {
      this.retry = undefined;
      this.loop.wake();
    }, LOCK_BUSY_RETRY_MS).unref();
  }

  private async relayBatch(): Promise<boolean> {
    const { redis, keys, metrics } = this.options;
    const batchSize = this.options.batchSize ?? 200;
    return this.connection.transaction(async (manager) => {
      const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [RELAY_LOCK])) as [
        { locked: boolean },
      ];
      if (!locked) {
        this.retryShortly();
        return false;
      }
      const rows = (await manager.query(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )) as OutboxRow[];
      metrics.relayLagMs = rows.length > 0 ? Math.max(0, Date.now() - new Date(rows[0].occurredAt).getTime()) : 0;
      if (rows.length === 0) return false;
      const events = rows.map(eventFromRow);
      const handOff = handOffSpans(events, keys.events);
      const pipeline = redis.pipeline();
      for (const event of events) pipeline.xadd(keys.events, '*', 'event', serializeEvent(event));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      handOff?.end(failed?.[0] ?? undefined);
      if (failed || results.length !== rows.length) throw failed?.[0] ?? new Error('redis did not answer every XADD');
      // The entry id lets the redelivery check ask Redis whether the entry is still on its way (redis-redelivery.ts).
      await manager.query(
        `UPDATE outbox o SET relayed_at = now(), stream_id = r.stream_id
           FROM unnest($1::bigint[], $2::text[]) AS r(position, stream_id) WHERE o.position = r.position`,
        [rows.map((row) => row.position), results.map(([, streamId]) => String(streamId))],
      );
      metrics.relayed += rows.length;
      return rows.length === batchSize;
    });
  }
}
