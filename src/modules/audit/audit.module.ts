import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import type { OrganizationAccess } from '../organizations';
import { AuditEventEntity } from './audit-event.entity';
import { AuditEventResolver } from './audit.resolver';
import { AuditService } from './audit.service';

export interface AuditDeps extends PlatformDeps {
  identity: IdentityService;
  access: OrganizationAccess;
}

/** The audit log: consumes every domain event into an append-only, organization-scoped table. */
export const auditModule = defineModule<AuditDeps, Record<string, never>>({
  name: 'audit',
  entities: [AuditEventEntity],
  resolvers: [AuditEventResolver],
  build({ dataSource, identity, access }) {
    const audit = new AuditService(dataSource, access);
    return { resolvers: [new AuditEventResolver(audit, identity)], exports: {}, consumers: [audit.consumer()] };
  },
});
