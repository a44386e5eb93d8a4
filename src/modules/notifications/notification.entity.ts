import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Something a user should know, made from a domain event; one per (event, recipient). */
@Entity('notifications')
@Index('notifications_user_id_created_at_id_idx', ['userId', 'createdAt', 'id'])
@Index('notifications_mail_digest_id_idx', ['mailDigestId'], { where: '"mail_digest_id" IS NOT NULL' })
@Index('notifications_event_id_user_id_key', ['eventId', 'userId'], { unique: true })
export class NotificationEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'notifications_pkey' })
  id: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @Column('uuid', { name: 'event_id' })
  eventId: string;

  @Column('text')
  type: string;

  @Column('text')
  message: string;

  @Column('uuid', { name: 'task_id', nullable: true })
  taskId: string | null;

  /** The digest that mails it, when its recipient wants mail of its type; a notification is in one digest at most. */
  @Column('uuid', { name: 'mail_digest_id', nullable: true })
  mailDigestId: string | null;

  @Column('timestamptz', { name: 'read_at', nullable: true })
  readAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
