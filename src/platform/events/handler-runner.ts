import { Transaction } from '../database/unit-of-work';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logging/logger';
import { errorMessage } from './errors';
import type { DomainEvent, EventConsumer, EventHandler, HandlerContext } from './event';
import type { EventMetrics } from './metrics';

export type HandlerOutcome = 'handled' | 'duplicate' | 'not-subscribed';

export class HandlerTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`handler did not finish within ${timeoutMs} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * The runner's own reads and writes failed (the database is away), not the
 * handler: the transport retries without counting it as an attempt, so an
 * outage does not dead-letter events.
 */
export class EventBookkeepingError extends Error {
  constructor(cause: unknown) {
    super(`could not read or record the event's handled state: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'EventBookkeepingError';
  }
}

/** Thrown inside HandlerContext.transaction when another run recorded the event first; the runner treats it as done. */
class AlreadyHandled extends Error {}

/**
 * Runs one consumer's handler for one event, at most once per (consumer,
 * event id) as far as the database can tell: a handled event is skipped, a
 * run is recorded when it succeeds, and a handler that writes through
 * ctx.transaction commits its writes and the record together.
 */
export class HandlerRunner {
  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    private readonly metrics: EventMetrics,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Resolves with what happened; `checkedUnhandled` when the caller has just
   * read the handled records itself (the inline relay does, per batch).
   * Rejects with the handler's error (or HandlerTimeoutError) for the transport to retry.
   */
  async run(consumer: EventConsumer, event: DomainEvent, options: { checkedUnhandled?: boolean } = {}): Promise<HandlerOutcome> {
    const handler = consumer.handlers[event.type] as EventHandler | undefined;
    if (!handler) return 'not-subscribed';
    if (!options.checkedUnhandled && (await bookkeeping(this.isHandled(consumer.name, event.id)))) return 'duplicate';

    const logger = this.logger.child({ requestId: event.requestId ?? undefined, eventId: event.id, eventType: event.type, consumer: consumer.name });
    const controller = new AbortController();
    let recorded = false;
    const ctx: HandlerContext = {
      logger,
      signal: controller.signal,
      transaction: (work) =>
        this.dataSource.transaction(async (manager) => {
          if (!(await this.record(manager, consumer.name, event.id))) throw new AlreadyHandled();
          const result = await work(new Transaction(manager));
          recorded = true;
          return result;
        }),
    };

    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new HandlerTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
    });
    try {
      await Promise.race([handler(event, ctx), timeout]);
    } catch (error) {
      if (error instanceof AlreadyHandled) return 'duplicate';
      this.metrics.failed += 1;
      logger.warn('event handler failed', { error, durationMs: Math.round(performance.now() - started) });
      throw error;
    } finally {
      clearTimeout(timer);
    }
    // Handled but not recorded (the database went away just now): the retry runs it again; handlers dedupe by event id.
    if (!recorded) await bookkeeping(this.record(this.dataSource.manager, consumer.name, event.id));
    this.metrics.delivered += 1;
    logger.debug('event handled', { durationMs: Math.round(performance.now() - started) });
    return 'handled';
  }

  /**
   * Records a failed attempt in the database: the next one is due after
   * `delayMs`, or, `dead`, the consumer gave up on the event (so neither the
   * backlog nor the redelivery of lost events waits for it any more).
   */
  async recordFailure(consumer: string, eventId: string, attempts: number, error: unknown, delayMs: number, dead: boolean): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO event_failures (consumer, event_id, attempts, last_error, next_attempt_at, dead_lettered_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond', CASE WHEN $6::boolean THEN now() END)
       ON CONFLICT (event_id, consumer) DO UPDATE
         SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
             next_attempt_at = EXCLUDED.next_attempt_at, dead_lettered_at = EXCLUDED.dead_lettered_at`,
      [consumer, eventId, attempts, errorMessage(error), delayMs, dead],
    );
  }

  private async isHandled(consumer: string, eventId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(`SELECT 1 FROM event_consumptions WHERE event_id = $1 AND consumer = $2`, [eventId, consumer])) as unknown[];
    return rows.length > 0;
  }

  /** false when the event was already recorded for this consumer. */
  private async record(manager: EntityManager, consumer: string, eventId: string): Promise<boolean> {
    const rows = (await manager.query(
      `INSERT INTO event_consumptions (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
      [consumer, eventId],
    )) as unknown[];
    return rows.length > 0;
  }
}

async function bookkeeping<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new EventBookkeepingError(error);
  }
}
