import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logging/logger';
import { WakeableLoop } from './loop';
import type { EventMetrics } from './metrics';
import { eventFromRow, OUTBOX_COLUMNS, serializeEvent, type OutboxRow } from './outbox';
import type { StreamKeys } from './redis';

/** Any constant works; it only has to be the same in every instance (and unlike our other advisory locks). */
const RELAY_LOCK = 0x6777_7265;

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
 * records absorb.
 */
export class RedisRelay {
  /** Start, wake and stop the relay through its loop. */
  readonly loop: WakeableLoop;

  constructor(private readonly options: RedisRelayOptions) {
    this.loop = new WakeableLoop(() => this.relayBatch(), {
      intervalMs: options.pollIntervalMs,
      logger: options.logger,
      failing: 'event relay to redis failing; events wait in the outbox',
      recovered: 'event relay to redis recovered',
    });
  }

  private async relayBatch(): Promise<boolean> {
    const { dataSource, redis, keys, metrics } = this.options;
    const batchSize = this.options.batchSize ?? 200;
    return dataSource.transaction(async (manager) => {
      const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [RELAY_LOCK])) as [{ locked: boolean }];
      if (!locked) return false;
      const rows = (await manager.query(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE relayed_at IS NULL ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )) as OutboxRow[];
      metrics.relayLagMs = rows.length > 0 ? Math.max(0, Date.now() - new Date(rows[0].occurredAt).getTime()) : 0;
      if (rows.length === 0) return false;
      const pipeline = redis.pipeline();
      for (const row of rows) pipeline.xadd(keys.events, '*', 'event', serializeEvent(eventFromRow(row)));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed || results.length !== rows.length) throw failed?.[0] ?? new Error('redis did not answer every XADD');
      await manager.query(`UPDATE outbox SET relayed_at = now() WHERE position = ANY($1::bigint[])`, [rows.map((row) => row.position)]);
      metrics.relayed += rows.length;
      return rows.length === batchSize;
    });
  }
}
