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
}

/** A module's events: event type -> payload type. Declared by the module that publishes them. */
export type EventMap = Record<string, object>;

/** The events of a map, each with its own payload: handy for a `switch (event.type)`. */
export type EventOf<TMap extends EventMap> = { [K in keyof TMap & string]: DomainEvent<K, TMap[K]> }[keyof TMap & string];

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

export type EventHandler<TEvent extends DomainEvent = DomainEvent> = (event: TEvent, ctx: HandlerContext) => Promise<void>;

/**
 * One consuming module's handlers: a consumer group of its own in Redis
 * Streams, and the key of its "handled" records. Its name must never change
 * once deployed (it would handle every retained event again).
 */
export interface EventConsumer {
  name: string;
  handlers: Partial<Record<string, EventHandler<DomainEvent<string, never>>>>;
}

/** Declares a consumer of `TMap`'s events, with each handler typed by its event's payload. */
export function defineConsumer<TMap extends EventMap>(
  name: string,
  handlers: { [K in keyof TMap & string]?: EventHandler<DomainEvent<K, TMap[K]>> },
): EventConsumer {
  return { name, handlers: handlers as EventConsumer['handlers'] };
}

/** What a service passes to publish: the rest (id, time, actor, request id) comes from the context. */
export interface EventDraft<TType extends string, TData> {
  type: TType;
  organizationId: string | null;
  subject: EventSubject;
  data: TData;
}
