import type { Transaction } from '../database/unit-of-work';
import type { Logger } from '../logging/logger';

/** What an event is about: `{ type: 'task', id }`. */
export interface EventSubject {
  type: string;
  id: string;
}

/**
 * The envelope every domain event travels in, from the outbox to each
 * consumer (and, later, to webhooks). `data` is the publishing module's
 * payload for `type`.
 */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  id: string;
  type: TType;
  occurredAt: Date;
  organizationId: string | null;
  actorId: string | null;
  requestId: string | null;
  subject: EventSubject;
  data: TData;
  /** The W3C traceparent of the span that wrote or relayed it, so its handlers continue the trace; absent when tracing is off. */
  traceparent?: string;
}

/** A module's events: event type -> payload type. Declared by the module that publishes them. */
export type EventMap = Record<string, object>;

/** The events of a map, each with its own payload: handy for a `switch (event.type)`. */
export type EventOf<TMap extends EventMap> = { [K in keyof TMap & string]: DomainEvent<K, TMap[K]> }[keyof TMap &
  string];

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** A child logger carrying the event's requestId, id, type and the consumer's name. */
  logger: Logger;
  /** Aborted when the handler runs past EVENTS_HANDLER_TIMEOUT_MS or the process is stopping; pass it to fetch and friends. */
  signal: AbortSignal;
  /**
   * Runs `work` in a transaction that also records the event as handled by
   * this consumer: the handler's writes and the record commit together, so a
   * retry can never apply them twice. `work` must use only `tx`'s
   * repositories (in embedded mode the transaction holds the only connection).
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}

export type EventHandler<TEvent extends DomainEvent = DomainEvent> = (
  event: TEvent,
  ctx: HandlerContext,
) => Promise<void>;

/** What a batch handler gets besides the events. */
export interface BatchContext {
  /** A child logger carrying the consumer's name and the batch's size (each event carries its own requestId). */
  logger: Logger;
  /** Aborted when the batch runs past EVENTS_HANDLER_TIMEOUT_MS or the process is stopping. */
  signal: AbortSignal;
  /**
   * Runs `work` in one transaction that also records every event of the
   * batch as handled by this consumer; `work` gets those no earlier run
   * recorded (a redelivered batch gets none), and writes only for them. The
   * writes and the records commit together, so a retry can never apply them
   * twice. Without it, the batch is recorded after the handler returns.
   */
  transaction<T>(work: (tx: Transaction, events: DomainEvent[]) => Promise<T>): Promise<T>;
}

export type BatchHandler<TEvent extends DomainEvent = DomainEvent> = (
  events: TEvent[],
  ctx: BatchContext,
) => Promise<void>;

/**
 * One consuming module's handlers: a consumer group of its own in Redis
 * Streams, and the key of its "handled" records. Its name must never change
 * once deployed (it would handle every retained event again).
 */
export interface EventConsumer {
  name: string;
  /** The handler of each type it consumes; with `batch`, what runs one event alone (after a batch failed). */
  handlers: Partial<Record<string, EventHandler<DomainEvent<string, never>>>>;
  /**
   * Handles many of its events in one go, in outbox order: a transport hands
   * it what it has (up to a few hundred). If it fails, each event of the
   * batch runs alone through `handlers`, so one bad event is retried or
   * dead-lettered by itself and the others are handled once.
   */
  batch?: BatchHandler<DomainEvent<string, never>>;
}

/** Declares a consumer of `TMap`'s events, with each handler typed by its event's payload. */
export function defineConsumer<TMap extends EventMap>(
  name: string,
  handlers: { [K in keyof TMap & string]?: EventHandler<DomainEvent<K, TMap[K]>> },
): EventConsumer {
  return { name, handlers: handlers as EventConsumer['handlers'] };
}

/**
 * Declares a consumer that handles `types` in batches: one call (and, with
 * ctx.transaction, one transaction) for many events. Alone, an event runs
 * through the same function as a batch of one.
 */
export function defineBatchConsumer<TMap extends EventMap, K extends keyof TMap & string = keyof TMap & string>(
  name: string,
  types: readonly K[],
  handle: BatchHandler<{ [P in K]: DomainEvent<P, TMap[P]> }[K]>,
): EventConsumer {
  const batch = handle as unknown as BatchHandler<DomainEvent<string, never>>;
  const single: EventHandler<DomainEvent<string, never>> = (event, ctx) =>
    batch([event], {
      logger: ctx.logger,
      signal: ctx.signal,
      transaction: (work) => ctx.transaction((tx) => work(tx, [event])),
    });
  return { name, handlers: Object.fromEntries(types.map((type) => [type, single])), batch };
}

/** What a service passes to publish: the rest (id, time, actor, request id) comes from the context. */
export interface EventDraft<TType extends string, TData> {
  type: TType;
  organizationId: string | null;
  subject: EventSubject;
  data: TData;
}
