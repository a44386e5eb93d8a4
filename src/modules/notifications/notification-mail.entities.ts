import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** A user's choice for one notification type; a type without a row takes its default (NOTIFICATION_KINDS). */
@Entity('notification_mail_preferences')
export class NotificationMailPreferenceEntity {
  @PrimaryColumn('uuid', { name: 'user_id', primaryKeyConstraintName: 'notification_mail_preferences_pkey' })
  userId: string;

  @PrimaryColumn('text', { primaryKeyConstraintName: 'notification_mail_preferences_pkey' })
  type: string;

  @Column('boolean')
  mail: boolean;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * OPEN collects (one per user), SENDING is claimed by a sender until `claimed_until`, RETRYING waits for `due_at`
 * (after a refusal, or a claim that lapsed before the mail was handed to SMTP); SENT, FAILED (refused at every
 * attempt), UNCERTAIN (handed to SMTP, outcome unknown: never sent again) and SKIPPED (nothing left to mail) are final.
 */
export type DigestStatus = 'OPEN' | 'SENDING' | 'RETRYING' | 'SENT' | 'FAILED' | 'UNCERTAIN' | 'SKIPPED';

/** One mail: the notifications a user got during a window (they point at it through `notifications.mail_digest_id`). */
@Entity('notification_digests')
@Index('notification_digests_open_user_id_key', ['userId'], { unique: true, where: `"status" = 'OPEN'` })
@Index('notification_digests_due_idx', ['dueAt'], { where: `"status" IN ('OPEN', 'RETRYING')` })
@Index('notification_digests_claimed_idx', ['claimedUntil'], { where: `"status" = 'SENDING'` })
@Index('notification_digests_user_id_idx', ['userId'])
export class NotificationDigestEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'notification_digests_pkey' })
  id: string;

  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('text', { default: 'OPEN' })
  status: DigestStatus;

  /** When it may be sent: the end of its window, or the next attempt after a refusal. */
  @Column('timestamptz', { name: 'due_at' })
  dueAt: Date;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('timestamptz', { name: 'claimed_until', nullable: true })
  claimedUntil: Date | null;

  /** Set, under the claim, just before the mail goes to SMTP: a lapsed claim with it is UNCERTAIN, without it is retried. */
  @Column('timestamptz', { name: 'handed_at', nullable: true })
  handedAt: Date | null;

  /** The Message-ID it is sent with, the same on every attempt. */
  @Column('text', { name: 'message_id', nullable: true })
  messageId: string | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('timestamptz', { name: 'sent_at', nullable: true })
  sentAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
