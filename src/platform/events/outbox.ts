import { randomUUID } from 'node:crypto';
import type { EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { prepared } from '../database/prepared-statements';
import type { Transaction } from '../database/unit-of-work';
import type { RequestContext } from '../graphql/context';
import type { EventCatalog } from './catalog';
import type { DomainEvent, EventConsumer, EventDraft, EventMap } from './event';
import type { EventMetrics } from './metrics';
import { inSpan, traceparentOf, tracingEnabled } from '../telemetry/spans';
import { SpanKind } from '@opentelemetry/api';

/** Who caused the event: a request's context, or a script's stand-in for one. */
export type EventOrigin = Pick<RequestContext, 'requestId' | 'viewer' | 'afterResponse'>;

const PUBLISHED = 'groundworkEventsPublished';
/** The request whose answer the relay's wake-up waits for, when events were published in one. */
const WAKE_AFTER = 'groundworkWakeAfter';

/** Counts `count` events published in the transaction, and remembers the request (if any) that raised them. */
function notePublished(queryRunner: QueryRunner, count: number, origins: readonly EventOrigin[]): void {
  queryRunner.data[PUBLISHED] = ((queryRunner.data[PUBLISHED] as number | undefined) ?? 0) + count;
  const afterResponse = origins.find((origin) => origin.afterResponse)?.afterResponse;
  if (afterResponse) queryRunner.data[WAKE_AFTER] ??= afterResponse;
}

/** The columns of an outbox row, as the relays select them. */
export const OUTBOX_COLUMNS = `position, id, type, occurred_at AS "occurredAt", organization_id AS "organizationId", actor_id AS "actorId",
  request_id AS "requestId", subject_type AS "subjectType", subject_id AS "subjectId", data, trace_parent AS "traceparent"`;

export interface OutboxRow {
  position: string;
  id: string;
  type: string;
  occurredAt: Date;
  organizationId: string | null;
  actorId: string | null;
  requestId: string | null;
  subjectType: string;
  subjectId: string;
  data: unknown;
  traceparent: string | null;
}

/** One (consumer, event type) pair per handler, as the two arrays WAITING_PAIRS takes ($1 consumers, $2 types). */
export function handlerPairs(consumers: EventConsumer[]): [string[], string[]] {
  const pairs = consumers.flatMap((consumer) =>
    Object.keys(consumer.handlers).map((type) => [consumer.name, type] as const),
  );
  return [pairs.map(([consumer]) => consumer), pairs.map(([, type]) => type)];
}

/**
 * FROM and WHERE of the pairs of $1/$2 that the outbox row `o` still waits
 * for: consumers with a handler for its type that neither handled it nor
 * gave up on it (dead-lettered).
 */
export const WAITING_PAIRS = `unnest($1::text[], $2::text[]) AS s(consumer, type)
  WHERE s.type = o.type
    AND NOT EXISTS (SELECT 1 FROM event_consumptions c WHERE c.event_id = o.id AND c.consumer = s.consumer)
    AND NOT EXISTS (SELECT 1 FROM event_failures f WHERE f.event_id = o.id AND f.consumer = s.consumer AND f.dead_lettered_at IS NOT NULL)`;

export function eventFromRow(row: OutboxRow): DomainEvent {
  return {
    id: row.id,
    type: row.type,
    occurredAt: new Date(row.occurredAt),
    organizationId: row.organizationId,
    actorId: row.actorId,
    requestId: row.requestId,
    subject: { type: row.subjectType, id: row.subjectId },
    data: row.data,
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
  };
}

/** The event as it travels through Redis: JSON, with the time as ISO-8601. */
export function serializeEvent(event: DomainEvent): string {
  return JSON.stringify(event);
}

export function deserializeEvent(json: string): DomainEvent {
  const parsed = JSON.parse(json) as DomainEvent & { occurredAt: string };
  if (typeof parsed.id !== 'string' || typeof parsed.type !== 'string' || typeof parsed.subject?.id !== 'string') {
    throw new Error('not a domain event');
  }
  return { ...parsed, occurredAt: new Date(parsed.occurredAt) };
}

/** Publishes a module's events, typed by its event map. */
export interface TypedPublisher<TMap extends EventMap> {
  publish<K extends keyof TMap & string>(
    tx: Transaction,
    origin: EventOrigin,
    draft: EventDraft<K, TMap[K]>,
  ): Promise<DomainEvent<K, TMap[K]>>;
  /** Many events, each with its own origin, in one INSERT (a consumer raising one event per row it wrote). */
  publishAll<K extends keyof TMap & string>(
    tx: Transaction,
    drafts: readonly { origin: EventOrigin; draft: EventDraft<K, TMap[K]> }[],
  ): Promise<DomainEvent<K, TMap[K]>[]>;
  /**
   * An event that the caller's own statement writes, beside the row it is about (a data-modifying CTE), so the
   * write and its event are one statement, atomic with no transaction around it: see StatementEvent.
   */
  prepare<K extends keyof TMap & string>(origin: EventOrigin, type: K): StatementEvent<TMap[K]>;
}

/** How the caller's statement fills the outbox rows of its StatementEvents: SQL over the rows it wrote. */
export interface StatementEventColumns<TData extends object> {
  /** The rows the events are about, as the statement names them (`inserted JOIN target ON …`): one event per row. */
  from: string;
  /**
   * The relation in `from` that holds each event's own values (id, time, actor, request, trace context), as the
   * statement unnested them from `statementEventArrays` into the columns STATEMENT_EVENT_COLUMNS names.
   */
  events: string;
  /** SQL for the organization id (or `NULL`). */
  organizationId: string;
  subjectType: string;
  /** SQL for the subject's id. */
  subjectId: string;
  /** SQL for each field of the event's data, by name: the compiler wants every field. */
  data: { [K in keyof TData]-?: string };
}

const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Each event's own values as a statement unnests them: column and type, in the order of StatementEvent.ownValues. */
const STATEMENT_EVENT_FIELDS = [
  ['event_id', 'uuid'],
  ['event_occurred_at', 'timestamptz'],
  ['event_actor_id', 'uuid'],
  ['event_request_id', 'text'],
  ['event_trace_parent', 'text'],
] as const;

/** The columns a statement unnests its StatementEvents' own values into, in the order of statementEventArrays. */
export const STATEMENT_EVENT_COLUMNS = STATEMENT_EVENT_FIELDS.map(([column]) => column).join(', ');

/**
 * The own values of `events` as five arrays, for `unnest(…)` into STATEMENT_EVENT_COLUMNS: `sql` is the five
 * typed parameters (numbered from `firstParameter`), `parameters` the arrays. Read when the statement is sent,
 * after each event's `write()` fixed its trace context.
 */
export function statementEventArrays(
  events: readonly StatementEvent[],
  firstParameter: number,
): { sql: string; parameters: unknown[][] } {
  const parameters: unknown[][] = STATEMENT_EVENT_FIELDS.map(() => []);
  for (const event of events) event.ownValues().forEach((value, index) => parameters[index].push(value));
  return {
    sql: STATEMENT_EVENT_FIELDS.map(([, type], index) => `$${firstParameter + index}::${type}[]`).join(', '),
    parameters,
  };
}

/**
 * An event written by the statement that writes its row: the fast path of a
 * hot write (addComment), one round trip where BEGIN, the write, the outbox
 * INSERT and COMMIT were four. The statement includes
 * `event AS (${event.insertSql(columns, n)})` as a
 * data-modifying CTE, which PostgreSQL runs to completion whether or not the
 * statement reads it, and takes the events' own values as arrays
 * (`statementEventArrays`): one statement may write the rows, and the events,
 * of many requests (WriteBatches). `write()` runs the statement and, when it
 * wrote the row (and so the event), counts it and wakes the relay as a
 * commit does. The id, time, actor, request and trace context are fixed
 * here, before the statement. Only for a statement that is its own
 * transaction (`uow.get`): inside `uow.transaction`, `publish()` instead,
 * whose wake-up waits for the commit.
 */
export class StatementEvent<TData extends object = object> {
  readonly id = randomUUID();
  readonly occurredAt = new Date();
  private traceparent: string | undefined;

  constructor(
    readonly type: string,
    private readonly origin: EventOrigin,
    private readonly onWritten: (origin: EventOrigin) => void,
  ) {}

  /**
   * `INSERT INTO outbox ... SELECT ... FROM <columns.from>`: one event per row, of this event's type, each with the
   * own values its row carries (this event's, and those of the others of its type the statement writes). Its two
   * parameters (the type and the subject type) are numbered from `firstParameter`.
   */
  insertSql(columns: StatementEventColumns<TData>, firstParameter: number): { sql: string; parameters: unknown[] } {
    const own = (column: string) => `${columns.events}.${column}`;
    const data = Object.entries(columns.data as Record<string, string>)
      .map(([key, value]) => `${quoteLiteral(key)}, ${value}`)
      .join(', ');
    return {
      sql: `INSERT INTO outbox (id, type, occurred_at, organization_id, actor_id, request_id, subject_type, subject_id, data, trace_parent)
         SELECT ${own('event_id')}, $${firstParameter}::text, ${own('event_occurred_at')}, ${columns.organizationId},
                ${own('event_actor_id')}, ${own('event_request_id')}, $${firstParameter + 1}::text, ${columns.subjectId},
                jsonb_build_object(${data}), ${own('event_trace_parent')}
           FROM ${columns.from}`,
      parameters: [this.type, columns.subjectType],
    };
  }

  /** Id, time, actor, request and trace context: the values statementEventArrays unnests, in its order. */
  ownValues(): unknown[] {
    return [
      this.id,
      this.occurredAt,
      this.origin.viewer.kind === 'user' ? this.origin.viewer.userId : null,
      this.origin.requestId,
      this.traceparent ?? null,
    ];
  }

  /**
   * Runs `statement` (which includes insertSql's CTE), inside the outbox write span when tracing is on, whose
   * context the row carries. A result other than undefined means it wrote the event: counted, and the relay woken.
   */
  async write<T>(statement: () => Promise<T | undefined>): Promise<T | undefined> {
    const run = async () => {
      this.traceparent = traceparentOf();
      const result = await statement();
      if (result !== undefined) this.onWritten(this.origin);
      return result;
    };
    return tracingEnabled()
      ? inSpan(
          `outbox write ${this.type}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { 'groundwork.event.id': this.id, 'groundwork.event.type': this.type },
          },
          run,
        )
      : run();
  }
}

/**
 * Writes events into the outbox with the caller's transaction, so an event
 * exists exactly when the write that raised it committed.
 */
export class EventPublisher implements TypedPublisher<EventMap> {
  /** `onWritten`: a StatementEvent was written (its statement is its own transaction): count it, wake the relay. */
  constructor(private readonly onWritten: (origin: EventOrigin) => void = () => undefined) {}

  prepare<K extends string>(origin: EventOrigin, type: K): StatementEvent<EventMap[K]> {
    return new StatementEvent(type, origin, this.onWritten);
  }

  async publish<K extends string, TData extends object>(
    tx: Transaction,
    origin: EventOrigin,
    draft: EventDraft<K, TData>,
  ): Promise<DomainEvent<K, TData>> {
    const { manager } = tx;
    const queryRunner = manager.queryRunner;
    if (!queryRunner?.isTransactionActive) {
      throw new Error(`Publish ${draft.type} inside the transaction of the write that raised it`);
    }
    const event: DomainEvent<K, TData> = {
      id: randomUUID(),
      type: draft.type,
      occurredAt: new Date(),
      organizationId: draft.organizationId,
      actorId: origin.viewer.kind === 'user' ? origin.viewer.userId : null,
      requestId: origin.requestId,
      subject: draft.subject,
      data: draft.data,
    };
    const insert = async () => {
      const traceparent = traceparentOf();
      if (traceparent) event.traceparent = traceparent;
      await manager.query(
        prepared(`INSERT INTO outbox (id, type, occurred_at, organization_id, actor_id, request_id, subject_type, subject_id, data, trace_parent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`),
        [
          event.id,
          event.type,
          event.occurredAt,
          event.organizationId,
          event.actorId,
          event.requestId,
          event.subject.type,
          event.subject.id,
          JSON.stringify(event.data),
          traceparent ?? null,
        ],
      );
    };
    // With tracing on, the write is a span whose context goes into the row: the event's handlers continue the trace.
    await (tracingEnabled()
      ? inSpan(
          `outbox write ${event.type}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { 'groundwork.event.id': event.id, 'groundwork.event.type': event.type },
          },
          insert,
        )
      : insert());
    notePublished(queryRunner, 1, [origin]);
    return event;
  }

  async publishAll<K extends string, TData extends object>(
    tx: Transaction,
    drafts: readonly { origin: EventOrigin; draft: EventDraft<K, TData> }[],
  ): Promise<DomainEvent<K, TData>[]> {
    if (drafts.length === 0) return [];
    const { manager } = tx;
    const queryRunner = manager.queryRunner;
    if (!queryRunner?.isTransactionActive) {
      throw new Error(`Publish ${drafts[0].draft.type} inside the transaction of the write that raised it`);
    }
    const occurredAt = new Date();
    const events: DomainEvent<K, TData>[] = drafts.map(({ origin, draft }) => ({
      id: randomUUID(),
      type: draft.type,
      occurredAt,
      organizationId: draft.organizationId,
      actorId: origin.viewer.kind === 'user' ? origin.viewer.userId : null,
      requestId: origin.requestId,
      subject: draft.subject,
      data: draft.data,
    }));
    // With tracing on, the events continue the trace of the work that raised them (a handler's span, say).
    const traceparent = traceparentOf();
    if (traceparent) for (const event of events) event.traceparent = traceparent;
    const column = <T>(read: (event: DomainEvent<K, TData>) => T) => events.map(read);
    // WITH ORDINALITY keeps the drafts' order in the outbox positions.
    await manager.query(
      `INSERT INTO outbox (id, type, occurred_at, organization_id, actor_id, request_id, subject_type, subject_id, data, trace_parent)
       SELECT id, type, $3, organization_id, actor_id, request_id, subject_type, subject_id, data::jsonb, $10::text
         FROM unnest($1::uuid[], $2::text[], $4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::uuid[], $9::text[])
              WITH ORDINALITY AS e(id, type, organization_id, actor_id, request_id, subject_type, subject_id, data, n)
        ORDER BY n`,
      [
        column((event) => event.id),
        column((event) => event.type),
        occurredAt,
        column((event) => event.organizationId),
        column((event) => event.actorId),
        column((event) => event.requestId),
        column((event) => event.subject.type),
        column((event) => event.subject.id),
        column((event) => JSON.stringify(event.data)),
        traceparent ?? null,
      ],
    );
    notePublished(
      queryRunner,
      events.length,
      drafts.map(({ origin }) => origin),
    );
    return events;
  }

  /** The same publisher for one module: only the types its catalog declares, each with its payload type. */
  typed<TMap extends EventMap>(catalog: EventCatalog<TMap>): TypedPublisher<TMap> {
    return {
      publish: async (tx, origin, draft) => {
        if (!Object.hasOwn(catalog, draft.type))
          throw new Error(`${draft.type} is not in the publishing module's event catalog`);
        return this.publish(tx, origin, draft);
      },
      publishAll: async (tx, drafts) => {
        const undeclared = drafts.find(({ draft }) => !Object.hasOwn(catalog, draft.type));
        if (undeclared) throw new Error(`${undeclared.draft.type} is not in the publishing module's event catalog`);
        return this.publishAll(tx, drafts);
      },
      prepare: <K extends keyof TMap & string>(origin: EventOrigin, type: K) => {
        if (!Object.hasOwn(catalog, type)) throw new Error(`${type} is not in the publishing module's event catalog`);
        return this.prepare(origin, type) as StatementEvent<TMap[K]>;
      },
    };
  }
}

/**
 * Counts what committed and wakes the relay instead of leaving the events to its next poll: at once, or, for events
 * an HTTP request raised, once its answer has gone (see AfterResponse).
 */
export class OutboxCommitSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly metrics: EventMetrics,
    private readonly onCommit: () => void,
  ) {}

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const afterResponse = event.queryRunner.data?.[WAKE_AFTER] as ((task: () => void) => void) | undefined;
    const count = takePublished(event.queryRunner);
    if (count === 0) return;
    this.metrics.published += count;
    if (afterResponse) afterResponse(this.onCommit);
    else this.onCommit();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    takePublished(event.queryRunner);
  }
}

function takePublished(queryRunner: QueryRunner): number {
  const count = (queryRunner.data?.[PUBLISHED] as number | undefined) ?? 0;
  if (count > 0) queryRunner.data[PUBLISHED] = 0;
  if (queryRunner.data?.[WAKE_AFTER]) delete queryRunner.data[WAKE_AFTER];
  return count;
}
