import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { EventTypes } from '../../platform/events/catalog';
import { defineBatchConsumer, type DomainEvent, type EventConsumer } from '../../platform/events/event';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageArgs } from '../../platform/pagination';
import { Role, type OrganizationAccess } from '../organizations';
import type { AuditEventEntity } from './audit-event.entity';
import type { AuditEventFilter } from './audit-event.types';
import { AuditEventsRepository } from './audit-events.repository';

export class AuditService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly eventTypes: EventTypes,
  ) {}

  /**
   * The audit consumer of every type a module's catalog audits: one row per event (an organization's, or, with no
   * organization, an account's), its data as the catalog's auditData keeps it; written in batches with the "handled"
   * records, so a redelivery adds nothing.
   */
  consumer(): EventConsumer {
    return defineBatchConsumer('audit', this.eventTypes.audited, async (_events, { transaction }) => {
      await transaction((tx, fresh) =>
        tx.get(AuditEventsRepository).record(fresh.map((event) => this.eventTypes.forAudit(event))),
      );
    });
  }

  /** ADMIN+; newest first, filtered by type, actor and subject; one statement for the page and its total. */
  async list(
    ctx: RequestContext,
    organizationId: string,
    args: PageArgs,
    filter?: AuditEventFilter | null,
  ): Promise<Connection<AuditEventEntity>> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId, Role.ADMIN);
    const [page] = await this.uow
      .get(AuditEventsRepository)
      .pages([orgId], pageRequest(args, ['timestamp', 'uuid']), filter);
    return page;
  }

  /** The viewer's own account activity (entries of no organization about them), newest first; UNAUTHENTICATED for anyone else. */
  async accountActivity(ctx: RequestContext, args: PageArgs): Promise<Connection<AuditEventEntity>> {
    const userId = requireUserId(ctx);
    return this.uow.get(AuditEventsRepository).accountPage(userId, pageRequest(args, ['timestamp', 'uuid']));
  }

  /** The row's line as the module that published its type renders it (the type itself for a type no module declares any more). */
  summary(row: Omit<AuditEventEntity, 'recordedAt'>): string {
    const event: DomainEvent = {
      id: row.id,
      type: row.type,
      occurredAt: row.occurredAt,
      organizationId: row.organizationId,
      actorId: row.actorId,
      requestId: row.requestId,
      subject: { type: row.subjectType, id: row.subjectId },
      data: row.data,
    };
    return this.eventTypes.summarize(event);
  }
}
