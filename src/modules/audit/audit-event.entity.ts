import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One domain event as the audit log keeps it: append-only (a trigger refuses UPDATE and DELETE); its id is the
 * event's. organizationId is null for an account's own entries (a password change), read by their subject.
 */
@Entity('audit_events')
@Index('audit_events_organization_id_occurred_at_id_idx', ['organizationId', 'occurredAt', 'id'])
@Index('audit_events_account_subject_id_occurred_at_id_idx', ['subjectId', 'occurredAt', 'id'], {
  where: '"organization_id" IS NULL',
})
export class AuditEventEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'audit_events_pkey' })
  id: string;

  @Column('uuid', { name: 'organization_id', nullable: true })
  organizationId: string | null;

  @Column('text')
  type: string;

  @Column('uuid', { name: 'actor_id', nullable: true })
  actorId: string | null;

  @Column('text', { name: 'subject_type' })
  subjectType: string;

  @Column('uuid', { name: 'subject_id' })
  subjectId: string;

  @Column('jsonb')
  data: unknown;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;

  @Column('timestamptz', { name: 'recorded_at', default: () => 'now()' })
  recordedAt: Date;
}
