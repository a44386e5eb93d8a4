import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { OrganizationEntity } from './organization.entity';
import { Role } from './role';

/** A single-use offer to join; the token goes out by mail and only its hash is stored. */
@Entity('invitations')
@Index('invitations_organization_id_email_idx', ['organizationId', 'email'])
@Check('invitations_role_check', `"role" IN ('OWNER', 'ADMIN', 'MEMBER')`)
export class InvitationEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'invitations_pkey' })
  id: string;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'invitations_organization_id_fkey' })
  organization?: OrganizationEntity;

  /** Normalised like identity's emails. */
  @Column('text')
  email: string;

  @Column('text')
  role: Role;

  @Index('invitations_token_hash_key', { unique: true })
  @Column('text', { name: 'token_hash' })
  tokenHash: string;

  @Column('uuid', { name: 'invited_by_user_id' })
  invitedByUserId: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'accepted_at', nullable: true })
  acceptedAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
