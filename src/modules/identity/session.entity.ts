import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** One signed-in device: a refresh-token family, from the logIn or signUp that started it to its revocation or expiry. */
@Entity('sessions')
export class SessionEntity {
  /** The family id its refresh tokens carry, and the `sid` claim of its access tokens. */
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'sessions_pkey' })
  id: string;

  @Index('sessions_user_id_idx')
  @Column('uuid', { name: 'user_id' })
  userId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The last logIn, signUp or refresh of the session. */
  @Column('timestamptz', { name: 'last_used_at', default: () => 'now()' })
  lastUsedAt: Date;

  /** When its newest refresh token expires: past that, the session is over. */
  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  /** The User-Agent header of its last use, truncated. */
  @Column('text', { name: 'user_agent', nullable: true })
  userAgent: string | null;

  /** The client address of its last use, as the proxy settings allow us to see it. */
  @Column('text', { nullable: true })
  ip: string | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
