import type { EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { DomainEvent } from '../../platform/events/event';
import type { Connection, PageRequest } from '../../platform/pagination';
import { WebhookDeliveryEntity, WebhookDeliveryStatus } from './webhook.entities';

/** An event on its way to the endpoints: what fanOut needs of it, the body sent as it will be signed. */
export interface OutgoingEvent extends Pick<DomainEvent, 'id' | 'type'> {
  organizationId: string;
  payload: string;
  /** The trace the delivery's attempts continue (the W3C traceparent), when tracing is on. */
  traceparent: string | undefined;
}

/** A delivery as lists show it: the payload, which may be large, stays in the table. */
export type DeliverySummary = Omit<WebhookDeliveryEntity, 'payload' | 'endpoint' | 'traceParent'>;

/** A delivery claimed for sending, with what its endpoint needs to send it. */
export interface DueDelivery {
  id: string;
  eventId: string;
  payload: string;
  attempts: number;
  url: string;
  secretSealed: string;
  active: boolean;
  traceparent: string | null;
}

/** How an attempt went; `delayMs` schedules the next one (null: none). */
export interface AttemptOutcome {
  status: WebhookDeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  error: string | null;
  delayMs: number | null;
}

/** Every statement about webhook deliveries, the sender's claiming and bookkeeping included. */
export class WebhookDeliveriesRepository {
  constructor(private readonly manager: EntityManager) {}

  async byId(id: string): Promise<WebhookDeliveryEntity | undefined> {
    return (await this.manager.findOneBy(WebhookDeliveryEntity, { id })) ?? undefined;
  }

  /**
   * A delivery per active endpoint of each event's organization that wants
   * its type, for many events in one statement; returns how many were created
   * (none for a redelivered event).
   */
  async fanOut(events: readonly OutgoingEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = (await this.manager.query(
      `INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_id, event_type, payload, next_attempt_at, trace_parent)
       SELECT e.id, e.organization_id, ev.id, ev.type, ev.payload, now(), ev.trace_parent
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[]) AS ev(id, type, organization_id, payload, trace_parent)
         JOIN webhook_endpoints e ON e.organization_id = ev.organization_id AND e.active AND ev.type = ANY(e.event_types)
       ON CONFLICT (endpoint_id, event_id) DO NOTHING
       RETURNING id`,
      [
        events.map((event) => event.id),
        events.map((event) => event.type),
        events.map((event) => event.organizationId),
        events.map((event) => event.payload),
        events.map((event) => event.traceparent ?? null),
      ],
    )) as unknown[];
    return rows.length;
  }

  /** Due again now, whatever its state, and free for any sender to claim; returns the row as stored. */
  async reschedule(id: string): Promise<WebhookDeliveryEntity> {
    await this.manager.update(WebhookDeliveryEntity, id, {
      status: WebhookDeliveryStatus.PENDING,
      nextAttemptAt: () => 'now()',
      lockedUntil: null,
    });
    return this.manager.findOneByOrFail(WebhookDeliveryEntity, { id });
  }

  /**
   * Claims up to `limit` due deliveries for `lockMs`: rows picked FOR UPDATE
   * SKIP LOCKED, so two senders never claim the same one, and a sender that
   * dies leaves a lock that lapses.
   */
  async claimDue(limit: number, lockMs: number): Promise<DueDelivery[]> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows] = (await this.manager.query(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
          WHERE status = 'PENDING' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
          ORDER BY next_attempt_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d SET locked_until = now() + $2 * interval '1 millisecond'
         FROM due, webhook_endpoints e
        WHERE d.id = due.id AND e.id = d.endpoint_id
       RETURNING d.id, d.event_id AS "eventId", d.payload, d.attempts, e.url, e.secret_sealed AS "secretSealed", e.active,
                 d.trace_parent AS "traceparent"`,
      [limit, lockMs],
    )) as [DueDelivery[], number];
    return rows;
  }

  /** Writes an attempt's outcome and releases the claim. */
  async recordAttempt(id: string, outcome: AttemptOutcome): Promise<void> {
    await this.manager.query(
      `UPDATE webhook_deliveries
          SET status = $2, attempts = $3, last_response_status = $4, last_error = $5, locked_until = NULL, updated_at = now(),
              next_attempt_at = CASE WHEN $6::int IS NULL THEN NULL ELSE now() + $6::int * interval '1 millisecond' END
        WHERE id = $1`,
      [id, outcome.status, outcome.attempts, outcome.responseStatus, outcome.error, outcome.delayMs],
    );
  }

  /** Newest first; a page per endpoint in one statement. */
  pages(endpointIds: readonly string[], page: PageRequest): Promise<Connection<DeliverySummary>[]> {
    const list = {
      entity: WebhookDeliveryEntity,
      alias: 'd',
      parent: 'endpoint_id',
      order: { column: 'created_at', kind: 'timestamp', descending: true },
      omit: ['payload', 'traceParent'],
    } as const;
    return loadKeysetPages(this.manager, list, endpointIds, page);
  }
}
