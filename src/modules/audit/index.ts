export { auditModule, type AuditDeps } from './audit.module';
export { AuditEvent } from './audit-event.types';
