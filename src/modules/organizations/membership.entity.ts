import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { OrganizationEntity } from './organization.entity';
import { Role } from './role';

/** A user's place in an organization. user_id references identity's users by id (a foreign key, no ORM relation). */
@Entity('memberships')
@Index('memberships_organization_id_user_id_key', ['organizationId', 'userId'], { unique: true })
@Index('memberships_organization_id_created_at_id_idx', ['organizationId', 'createdAt', 'id'])
@Check('memberships_role_check', `"role" IN ('OWNER', 'ADMIN', 'MEMBER')`)
export class MembershipEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'memberships_pkey' })
  id: string;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'memberships_organization_id_fkey' })
  organization?: OrganizationEntity;

  @Index('memberships_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @Column('text')
  role: Role;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
