import type { EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { DomainEvent } from '../../platform/events/event';
import type { Connection, PageRequest } from '../../platform/pagination';
import { AuditEventEntity } from './audit-event.entity';
import type { AuditEventFilter } from './audit-event.types';

/** Every statement about the audit log. The table is append-only: there is no update or delete here to write. */
export class AuditEventsRepository {
  constructor(private readonly manager: EntityManager) {}

  /** One row per event, under the event's id, in one statement; a redelivered event adds nothing. No organization: an account's entry. */
  async record(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.manager.query(
      `INSERT INTO audit_events (id, organization_id, type, actor_id, subject_type, subject_id, data, request_id, occurred_at)
       SELECT id, organization_id, type, actor_id, subject_type, subject_id, data::jsonb, request_id, occurred_at
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::timestamptz[])
           AS e(id, organization_id, type, actor_id, subject_type, subject_id, data, request_id, occurred_at)
       ON CONFLICT (id) DO NOTHING`,
      [
        events.map((event) => event.id),
        events.map((event) => event.organizationId),
        events.map((event) => event.type),
        events.map((event) => event.actorId),
        events.map((event) => event.subject.type),
        events.map((event) => event.subject.id),
        events.map((event) => JSON.stringify(event.data)),
        events.map((event) => event.requestId),
        events.map((event) => new Date(event.occurredAt).toISOString()),
      ],
    );
  }

  /** Newest first, filtered by type, actor and subject; a page per organization in one statement. */
  pages(
    organizationIds: readonly string[],
    page: PageRequest,
    filter?: AuditEventFilter | null,
  ): Promise<Connection<AuditEventEntity>[]> {
    const list = {
      entity: AuditEventEntity,
      alias: 'a',
      parent: 'organization_id',
      order: { column: 'occurred_at', kind: 'timestamp', descending: true },
    } as const;
    return loadKeysetPages(this.manager, list, organizationIds, page, (params) => {
      const conditions: string[] = [];
      if (filter?.type) conditions.push(`a.type = ${params.add(filter.type, '::text')}`);
      if (filter?.actorId) conditions.push(`a.actor_id = ${params.add(filter.actorId.toLowerCase(), '::uuid')}`);
      if (filter?.subjectId) conditions.push(`a.subject_id = ${params.add(filter.subjectId.toLowerCase(), '::uuid')}`);
      return conditions;
    });
  }

  /** The entries of no organization about one account (subject the user), newest first; one statement for the page and its total. */
  async accountPage(userId: string, page: PageRequest): Promise<Connection<AuditEventEntity>> {
    const list = {
      entity: AuditEventEntity,
      alias: 'a',
      parent: 'subject_id',
      order: { column: 'occurred_at', kind: 'timestamp', descending: true },
    } as const;
    const [connection] = await loadKeysetPages<AuditEventEntity>(this.manager, list, [userId], page, () => [
      'a.organization_id IS NULL',
      `a.subject_type = 'user'`,
    ]);
    return connection;
  }
}
