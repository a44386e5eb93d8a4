import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { InvitationEntity } from './invitation.entity';

/** Every statement about invitations. */
export class InvitationsRepository {
  constructor(private readonly manager: EntityManager) {}

  async byId(id: string): Promise<InvitationEntity | undefined> {
    return (await this.manager.findOneBy(InvitationEntity, { id })) ?? undefined;
  }

  async byTokenHash(tokenHash: string): Promise<InvitationEntity | undefined> {
    return (await this.manager.findOneBy(InvitationEntity, { tokenHash })) ?? undefined;
  }

  /** A new invitation, pending: neither accepted nor revoked. */
  async insert(
    values: Pick<
      InvitationEntity,
      'id' | 'organizationId' | 'email' | 'role' | 'tokenHash' | 'invitedByUserId' | 'expiresAt'
    >,
  ): Promise<InvitationEntity> {
    return insertRow(this.manager, InvitationEntity, { ...values, acceptedAt: null, revokedAt: null });
  }

  /** Revokes the pending invitations of `email` (normalised) to the organization. */
  async revokePending(organizationId: string, email: string): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(InvitationEntity)
      .set({ revokedAt: () => 'now()' })
      .where('organization_id = :organizationId AND email = :email AND accepted_at IS NULL AND revoked_at IS NULL', {
        organizationId,
        email,
      })
      .execute();
  }

  /** Accepts a pending, unexpired invitation in one conditional UPDATE, so of two racing accepts exactly one wins; false for the other. */
  async markAccepted(id: string): Promise<boolean> {
    const [rows] = (await this.manager.query(
      `UPDATE invitations SET accepted_at = now()
        WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        RETURNING id`,
      [id],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async setTokenHash(id: string, tokenHash: string): Promise<void> {
    await this.manager.update(InvitationEntity, id, { tokenHash });
  }
}
