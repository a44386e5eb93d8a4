import { randomUUID } from 'node:crypto';
import type { EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { Transaction } from '../database/unit-of-work';
import type { RequestContext } from '../graphql/context';
import type { EventCatalog } from './catalog';
import type { DomainEvent, EventConsumer, EventDraft, EventMap } from './event';
import type { EventMetrics } from './metrics';

/** Who caused the event: a request's context, or a script's stand-in for one. */
export type EventOrigin = Pick<RequestContext, 'requestId' | 'viewer'>;

const PUBLISHED = 'groundworkEventsPublished';

/** The columns of an outbox row, as the relays select them. */
export const OUTBOX_COLUMNS = `position, id, type, occurred_at AS "occurredAt", organization_id AS "organizationId", actor_id AS "actorId",
  request_id AS "requestId", subject_type AS "subjectType", subject_id AS "subjectId", data`;

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
}

/**
 * Writes events into the outbox with the caller's transaction, so an event
 * exists exactly when the write that raised it committed.
 */
export class EventPublisher implements TypedPublisher<EventMap> {
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
    await manager.query(
      `INSERT INTO outbox (id, type, occurred_at, organization_id, actor_id, request_id, subject_type, subject_id, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
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
      ],
    );
    queryRunner.data[PUBLISHED] = ((queryRunner.data[PUBLISHED] as number | undefined) ?? 0) + 1;
    return event;
  }

  /** The same publisher for one module: only the types its catalog declares, each with its payload type. */
  typed<TMap extends EventMap>(catalog: EventCatalog<TMap>): TypedPublisher<TMap> {
    return {
      publish: async (tx, origin, draft) => {
        if (!Object.hasOwn(catalog, draft.type))
          throw new Error(`${draft.type} is not in the publishing module's event catalog`);
        return this.publish(tx, origin, draft);
      },
    };
  }
}

/** Counts what committed and wakes the local relay at once, instead of at its next poll. */
export class OutboxCommitSubscriber implements EntitySubscriberInterface {
  constructor(
    private readonly metrics: EventMetrics,
    private readonly onCommit: () => void,
  ) {}

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const count = takePublished(event.queryRunner);
    if (count === 0) return;
    this.metrics.published += count;
    this.onCommit();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    takePublished(event.queryRunner);
  }
}

function takePublished(queryRunner: QueryRunner): number {
  const count = (queryRunner.data?.[PUBLISHED] as number | undefined) ?? 0;
  if (count > 0) queryRunner.data[PUBLISHED] = 0;
  return count;
}
