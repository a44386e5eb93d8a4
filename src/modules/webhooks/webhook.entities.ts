import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/** Where an organization wants its events POSTed; the secret is stored sealed (see SecretBox). */
@Entity('webhook_endpoints')
@Index('webhook_endpoints_organization_id_idx', ['organizationId'])
export class WebhookEndpointEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_endpoints_pkey' })
  id: string;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @Column('text')
  url: string;

  @Column('text', { name: 'event_types', array: true })
  eventTypes: string[];

  @Column('text', { name: 'secret_sealed' })
  secretSealed: string;

  @Column('boolean', { default: true })
  active: boolean;

  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  @Column('uuid', { name: 'created_by_id' })
  createdById: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** One event for one endpoint: a row, so a scheduled retry survives restarts and any instance may send it. */
@Entity('webhook_deliveries')
@Index('webhook_deliveries_endpoint_id_event_id_key', ['endpointId', 'eventId'], { unique: true })
@Index('webhook_deliveries_endpoint_id_created_at_id_idx', ['endpointId', 'createdAt', 'id'])
@Index('webhook_deliveries_due_idx', ['nextAttemptAt'], { where: `"status" = 'PENDING'` })
@Check('webhook_deliveries_status_check', `"status" IN ('PENDING', 'SUCCEEDED', 'FAILED')`)
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_deliveries_pkey' })
  id: string;

  @Column('uuid', { name: 'endpoint_id' })
  endpointId: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'webhook_deliveries_endpoint_id_fkey' })
  endpoint?: WebhookEndpointEntity;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @Column('uuid', { name: 'event_id' })
  eventId: string;

  @Column('text', { name: 'event_type' })
  eventType: string;

  /** The exact body sent on every attempt: `{ type, timestamp, data }`. */
  @Column('text')
  payload: string;

  @Column('text', { default: WebhookDeliveryStatus.PENDING })
  status: WebhookDeliveryStatus;

  @Column('int', { default: 0 })
  attempts: number;

  @Column('int', { name: 'last_response_status', nullable: true })
  lastResponseStatus: number | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;

  /** While an instance is sending it; a crashed sender's lock lapses. */
  @Column('timestamptz', { name: 'locked_until', nullable: true })
  lockedUntil: Date | null;

  /** The W3C traceparent its attempts continue (the event's trace); null when tracing was off. */
  @Column('text', { name: 'trace_parent', nullable: true })
  traceParent: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
