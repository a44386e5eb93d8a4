import { Transaction } from '../database/unit-of-work';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logging/logger';
import { errorMessage } from './errors';
import type { BatchContext, BatchHandler, DomainEvent, EventConsumer, EventHandler, HandlerContext } from './event';
import { inBatchSpan, inHandlerSpan } from './event-spans';
import type { EventMetrics } from './metrics';

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
    super(
      `could not read or record the event's handled state: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'EventBookkeepingError';
  }
}

/** Thrown inside HandlerContext.transaction when another run recorded the event first; the runner treats it as done. */
class AlreadyHandled extends Error {}

/** What became of one event of a batch. */
export type EventOutcome =
  | { status: 'handled' | 'duplicate' | 'not-subscribed' }
  | { status: 'failed'; error: unknown }
  /** Not run: an earlier event of its lane failed in this batch, and a lane keeps its order. */
  | { status: 'held' };

export interface BatchOptions {
  /** The caller has just read the handled records itself (the inline relay does, per batch). */
  checkedUnhandled?: boolean;
  /** Events of one lane run in order: once one fails, its lane's later events are held. Without it, each event stands alone. */
  lane?: (event: DomainEvent) => string;
}

/**
 * Runs one consumer's handlers, at most once per (consumer, event id) as far
 * as the database can tell: a handled event is skipped, a run is recorded
 * when it succeeds, and a handler that writes through ctx.transaction commits
 * its writes and the record together. A batch costs the consumer one
 * transaction (a batch handler) or one record statement (handlers that do
 * not write), not one per event.
 */
export class HandlerRunner {
  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    private readonly metrics: EventMetrics,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs `events` (outbox order) through the consumer: its batch handler
   * first when it has one, and if that fails, each event alone, so one bad
   * event fails by itself and the others are handled once. Answers an
   * outcome per event, in order. Rejects only with EventBookkeepingError
   * (the database, not a handler, failed): the transport retries the lot
   * without counting an attempt.
   */
  async runBatch(consumer: EventConsumer, events: DomainEvent[], options: BatchOptions = {}): Promise<EventOutcome[]> {
    const outcomes = new Map<string, EventOutcome>();
    const subscribed = events.filter((event) => {
      if (consumer.handlers[event.type]) return true;
      outcomes.set(event.id, { status: 'not-subscribed' });
      return false;
    });
    let todo = subscribed;
    if (!options.checkedUnhandled && todo.length > 0) {
      const handled = await bookkeeping(
        this.handledAmong(
          consumer.name,
          todo.map((event) => event.id),
        ),
      );
      todo = todo.filter((event) => {
        if (!handled.has(event.id)) return true;
        outcomes.set(event.id, { status: 'duplicate' });
        return false;
      });
    }
    if (consumer.batch && todo.length > 1) {
      try {
        const handled = await this.runBatchHandler(consumer, todo);
        for (const event of todo) outcomes.set(event.id, { status: handled.has(event.id) ? 'handled' : 'duplicate' });
        todo = [];
      } catch (error) {
        if (error instanceof EventBookkeepingError) throw error;
        this.logger.warn('event batch failed; running its events one at a time', {
          consumer: consumer.name,
          events: todo.length,
          error,
        });
      }
    }
    const heldLanes = new Set<string>();
    const unrecorded: string[] = [];
    try {
      for (const event of todo) {
        const lane = options.lane?.(event);
        if (lane !== undefined && heldLanes.has(lane)) {
          outcomes.set(event.id, { status: 'held' });
          continue;
        }
        try {
          outcomes.set(event.id, { status: await this.runOne(consumer, event, unrecorded) });
        } catch (error) {
          if (error instanceof EventBookkeepingError) throw error;
          outcomes.set(event.id, { status: 'failed', error });
          if (lane !== undefined) heldLanes.add(lane);
        }
      }
    } finally {
      // Handlers that wrote nothing through ctx.transaction are recorded together; if this fails, the transport retries them.
      if (unrecorded.length > 0) await bookkeeping(this.recordMany(this.dataSource.manager, consumer.name, unrecorded));
    }
    return events.map((event) => outcomes.get(event.id)!);
  }

  /** The batch handler over `events`, within the timeout; the ids it recorded as handled (the rest were recorded by an earlier run). */
  private async runBatchHandler(consumer: EventConsumer, events: DomainEvent[]): Promise<Set<string>> {
    const handler = consumer.batch as BatchHandler;
    const logger = this.logger.child({ consumer: consumer.name, events: events.length });
    const controller = new AbortController();
    let recorded: Set<string> | undefined;
    const ctx: BatchContext = {
      logger,
      signal: controller.signal,
      transaction: (work) =>
        this.dataSource.transaction(async (manager) => {
          const fresh = await bookkeeping(
            this.recordMany(
              manager,
              consumer.name,
              events.map((event) => event.id),
            ),
          );
          const result = await work(
            new Transaction(manager),
            events.filter((event) => fresh.has(event.id)),
          );
          recorded = new Set([...(recorded ?? []), ...fresh]);
          return result;
        }),
    };
    return inBatchSpan(consumer.name, events, async () => {
      const started = performance.now();
      await this.withTimeout(controller, handler(events, ctx));
      // Handled but not recorded through a transaction (nothing to write): recorded now; the retry of a failure here runs it again.
      recorded ??= await bookkeeping(
        this.recordMany(
          this.dataSource.manager,
          consumer.name,
          events.map((event) => event.id),
        ),
      );
      this.metrics.delivered += recorded.size;
      logger.debug('event batch handled', { durationMs: Math.round(performance.now() - started) });
      return recorded;
    });
  }

  /** One event through its handler; a handler that did not record through ctx.transaction has its id pushed to `unrecorded`. */
  private async runOne(
    consumer: EventConsumer,
    event: DomainEvent,
    unrecorded: string[],
  ): Promise<'handled' | 'duplicate'> {
    const handler = consumer.handlers[event.type] as EventHandler;
    const logger = this.logger.child({
      requestId: event.requestId ?? undefined,
      eventId: event.id,
      eventType: event.type,
      consumer: consumer.name,
    });
    const controller = new AbortController();
    let recorded = false;
    const ctx: HandlerContext = {
      logger,
      signal: controller.signal,
      transaction: (work) =>
        this.dataSource.transaction(async (manager) => {
          const fresh = await bookkeeping(this.recordMany(manager, consumer.name, [event.id]));
          if (fresh.size === 0) throw new AlreadyHandled();
          const result = await work(new Transaction(manager));
          recorded = true;
          return result;
        }),
    };
    return inHandlerSpan(consumer.name, event, async () => {
      const started = performance.now();
      try {
        await this.withTimeout(controller, handler(event, ctx));
      } catch (error) {
        if (error instanceof AlreadyHandled) return 'duplicate';
        if (error instanceof EventBookkeepingError) throw error;
        this.metrics.failed += 1;
        logger.warn('event handler failed', { error, durationMs: Math.round(performance.now() - started) });
        throw error;
      }
      if (!recorded) unrecorded.push(event.id);
      this.metrics.delivered += 1;
      logger.debug('event handled', { durationMs: Math.round(performance.now() - started) });
      return 'handled';
    });
  }

  private async withTimeout(controller: AbortController, work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new HandlerTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Records a failed attempt in the database: the next one is due after
   * `delayMs`, or, `dead`, the consumer gave up on the event (so neither the
   * backlog nor the redelivery of lost events waits for it any more).
   */
  async recordFailure(
    consumer: string,
    eventId: string,
    attempts: number,
    error: unknown,
    delayMs: number,
    dead: boolean,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO event_failures (consumer, event_id, attempts, last_error, next_attempt_at, dead_lettered_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond', CASE WHEN $6::boolean THEN now() END)
       ON CONFLICT (event_id, consumer) DO UPDATE
         SET attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error,
             next_attempt_at = EXCLUDED.next_attempt_at, dead_lettered_at = EXCLUDED.dead_lettered_at`,
      [consumer, eventId, attempts, errorMessage(error), delayMs, dead],
    );
  }

  /** Which of `eventIds` the consumer has handled. */
  private async handledAmong(consumer: string, eventIds: string[]): Promise<Set<string>> {
    const rows = (await this.dataSource.query(
      `SELECT event_id AS "eventId" FROM event_consumptions WHERE consumer = $1 AND event_id = ANY($2::uuid[])`,
      [consumer, eventIds],
    )) as { eventId: string }[];
    return new Set(rows.map((row) => row.eventId));
  }

  /** Records the events as handled by the consumer, in one statement; answers those not recorded before. */
  private async recordMany(manager: EntityManager, consumer: string, eventIds: string[]): Promise<Set<string>> {
    const rows = (await manager.query(
      `INSERT INTO event_consumptions (consumer, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id AS "eventId"`,
      [consumer, eventIds],
    )) as { eventId: string }[];
    return new Set(rows.map((row) => row.eventId));
  }
}

async function bookkeeping<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new EventBookkeepingError(error);
  }
}
