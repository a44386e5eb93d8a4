import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { entryFields, untilReady, type StreamKeys } from './redis';

export interface DeadLetter {
  /** What `--replay` takes. */
  id: string;
  consumer: string;
  eventId: string;
  eventType: string;
  attempts: number;
  error: string;
  failedAt: Date;
}

/** The events a consumer gave up on, and a way to give them another go. */
export interface DeadLetters {
  list(limit?: number): Promise<DeadLetter[]>;
  /** Hands the event to that one consumer again (others that handled it are not bothered); false when there is no such dead letter. */
  replay(id: string): Promise<boolean>;
}

/** Redis Streams: the dead-letter stream; a replay re-adds the event to the events stream, addressed to its consumer. */
export class StreamDeadLetters implements DeadLetters {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
  ) {}

  async list(limit = 100): Promise<DeadLetter[]> {
    // The client has no offline queue: right after start it may still be connecting.
    await untilReady(this.redis, 5000);
    const entries = (await this.redis.xrange(this.keys.deadLetters, '-', '+', 'COUNT', limit)) as [string, string[]][];
    return entries.map(([id, flat]) => {
      const fields = entryFields(flat);
      let eventType = 'unknown';
      try {
        eventType = (JSON.parse(fields.get('event') ?? '{}') as { type?: string }).type ?? eventType;
      } catch {
        // A message that was not an event is dead-lettered as it came; its type stays unknown.
      }
      return {
        id,
        consumer: fields.get('consumer') ?? '',
        eventId: fields.get('eventId') ?? '',
        eventType,
        attempts: Number(fields.get('attempts') ?? 0),
        error: fields.get('error') ?? '',
        failedAt: new Date(fields.get('failedAt') ?? 0),
      };
    });
  }

  async replay(id: string): Promise<boolean> {
    if (!/^\d+-\d+$/.test(id)) return false;
    await untilReady(this.redis, 5000);
    const [entry] = (await this.redis.xrange(this.keys.deadLetters, id, id)) as [string, string[]][];
    if (!entry) return false;
    const fields = entryFields(entry[1]);
    await this.redis
      .multi()
      .xadd(this.keys.events, '*', 'event', fields.get('event') ?? '', 'onlyFor', fields.get('consumer') ?? '')
      .xdel(this.keys.deadLetters, id)
      .exec();
    return true;
  }
}

/** Inline: dead-lettered rows of event_failures, named `<consumer>/<eventId>`; a replay puts the event back in the relay's way. */
export class TableDeadLetters implements DeadLetters {
  constructor(private readonly dataSource: DataSource) {}

  async list(limit = 100): Promise<DeadLetter[]> {
    const rows = (await this.dataSource.query(
      `SELECT f.consumer, f.event_id AS "eventId", coalesce(o.type, 'unknown') AS "eventType", f.attempts, f.last_error AS error,
              f.dead_lettered_at AS "failedAt"
         FROM event_failures f LEFT JOIN outbox o ON o.id = f.event_id
        WHERE f.dead_lettered_at IS NOT NULL
        ORDER BY f.dead_lettered_at, f.event_id
        LIMIT $1`,
      [limit],
    )) as Omit<DeadLetter, 'id'>[];
    return rows.map((row) => ({ ...row, id: `${row.consumer}/${row.eventId}`, failedAt: new Date(row.failedAt) }));
  }

  async replay(id: string): Promise<boolean> {
    const slash = id.lastIndexOf('/');
    const [consumer, eventId] = [id.slice(0, slash), id.slice(slash + 1)];
    if (slash < 1 || !/^[0-9a-f-]{36}$/i.test(eventId)) return false;
    return this.dataSource.transaction(async (manager) => {
      const [removed] = (await manager.query(
        `DELETE FROM event_failures WHERE consumer = $1 AND event_id = $2 AND dead_lettered_at IS NOT NULL RETURNING event_id`,
        [consumer, eventId],
      )) as [unknown[], number];
      if (removed.length === 0) return false;
      await manager.query(`UPDATE outbox SET relayed_at = NULL, settled_at = NULL WHERE id = $1`, [eventId]);
      return true;
    });
  }
}
