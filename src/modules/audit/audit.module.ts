import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import type { OrganizationAccess } from '../organizations';
import { AuditEventEntity } from './audit-event.entity';
import { AuditEventResolver } from './audit.resolver';
import { AuditService } from './audit.service';
import { auditEventAddedTopic } from './audit.live';
import { Audit1795579300000 } from './migrations/1795579300000-audit';
import { AccountAudit1796300000000 } from './migrations/1796300000000-account-audit';

export interface AuditDeps extends PlatformDeps {
  identity: IdentityService;
  access: OrganizationAccess;
}

/** The audit log: consumes every event type the modules' catalogs audit into an append-only table, read per organization (ADMIN+) or, for events of no organization, by the account they are about. */
export const auditModule = defineModule<AuditDeps, Record<string, never>>({
  name: 'audit',
  entities: [AuditEventEntity],
  migrations: [Audit1795579300000, AccountAudit1796300000000],
  resolvers: [AuditEventResolver],
  build({ uow, eventTypes, identity, access }) {
    const audit = new AuditService(uow, access, eventTypes);
    return {
      resolvers: [new AuditEventResolver(audit, identity)],
      exports: {},
      consumers: [audit.consumer()],
      liveTopics: [auditEventAddedTopic(access, eventTypes)],
    };
  },
});
