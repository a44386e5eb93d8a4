import type { EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { DomainEvent } from '../../platform/events/event';
import type { Connection, PageRequest } from '../../platform/pagination';
import { AuditEventEntity } from './audit-event.entity';
import type { AuditEventFilter } from './audit-event.types';

/** Every statement about the audit log. The table is append-only: there is no update or delete here to write. */
export class AuditEventsRepository {
  constructor(private readonly manager: EntityManager) {}

  /** One row per event, under the event's id; a redelivered event adds nothing. */
  async record(event: DomainEvent & { organizationId: string }): Promise<void> {
    await this.manager.query(
      `INSERT INTO audit_events (id, organization_id, type, actor_id, subject_type, subject_id, data, request_id, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
      [event.id, event.organizationId, event.type, event.actorId, event.subject.type, event.subject.id, JSON.stringify(event.data), event.requestId, event.occurredAt],
    );
  }

  /** Newest first, filtered by type, actor and subject; a page per organization in one statement. */
  pages(organizationIds: readonly string[], page: PageRequest, filter?: AuditEventFilter | null): Promise<Connection<AuditEventEntity>[]> {
    const list = { entity: AuditEventEntity, alias: 'a', parent: 'organization_id', order: { column: 'occurred_at', kind: 'timestamp', descending: true } } as const;
    return loadKeysetPages(this.manager, list, organizationIds, page, (params) => {
      const conditions: string[] = [];
      if (filter?.type) conditions.push(`a.type = ${params.add(filter.type, '::text')}`);
      if (filter?.actorId) conditions.push(`a.actor_id = ${params.add(filter.actorId.toLowerCase(), '::uuid')}`);
      if (filter?.subjectId) conditions.push(`a.subject_id = ${params.add(filter.subjectId.toLowerCase(), '::uuid')}`);
      return conditions;
    });
  }
}
