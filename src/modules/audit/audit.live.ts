import type { EventTypes } from '../../platform/events/catalog';
import type { DomainEvent } from '../../platform/events/event';
import { parseId } from '../../platform/ids';
import type { LiveTopic } from '../../platform/live/topic';
import { Role, type OrganizationAccess } from '../organizations';
import type { AuditEvent } from './audit-event.types';

/**
 * auditEventAdded(organizationId): the organization's audited events as they
 * happen, as the audit log keeps them (the catalog's auditData), for its
 * OWNERs and ADMINs; a subscriber whose role drops below ADMIN, or who
 * leaves, is ended with FORBIDDEN.
 */
export function auditEventAddedTopic(access: OrganizationAccess, eventTypes: EventTypes): LiveTopic<AuditEvent> {
  return {
    name: 'auditEventAdded',
    types: eventTypes.audited,
    endWhenRefused: true,
    async open(ctx, organizationId) {
      const id = parseId(organizationId ?? '', 'organizationId');
      await access.require(ctx, id, Role.ADMIN);
      return { key: id, organizationId: id };
    },
    keyOf: (event) => event.organizationId ?? undefined,
    admit: (recipients) => access.membersAmong(recipients, Role.ADMIN),
    async payloads(events: readonly DomainEvent[]) {
      return new Map(
        events.map((event) => {
          const kept = eventTypes.forAudit(event);
          const row: AuditEvent = {
            id: kept.id,
            type: kept.type,
            subjectType: kept.subject.type,
            subjectId: kept.subject.id,
            data: kept.data,
            requestId: kept.requestId,
            occurredAt: kept.occurredAt,
            actorId: kept.actorId,
            organizationId: kept.organizationId,
          };
          return [event.id, row];
        }),
      );
    },
  };
}
