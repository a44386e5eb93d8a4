import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../../platform/database/errors';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import {
  BadUserInputError,
  ConflictError,
  EmailNotVerifiedError,
  ForbiddenError,
  NotFoundError,
} from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import type { TypedPublisher } from '../../platform/events/outbox';
import { hashOpaqueToken, looksLikeOpaqueToken } from '../../platform/opaque-tokens';
import { normaliseEmail, type IdentityService } from '../identity';
import type { InvitationEntity } from './invitation.entity';
import type { InvitationTokens } from './invitation-mail';
import { InvitationsRepository } from './invitations.repository';
import type { MembershipEntity } from './membership.entity';
import { MembershipsRepository } from './memberships.repository';
import { OrganizationsRepository } from './organizations.repository';
import type { OrganizationEvents } from './organization.events';
import type { InviteMemberInput } from './organization.inputs';
import type { OrganizationAccess } from './organization-access';
import { Role } from './role';

export class InvitationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly identity: IdentityService,
    private readonly tokens: InvitationTokens,
    private readonly ttlSeconds: number,
    private readonly events: TypedPublisher<OrganizationEvents>,
  ) {}

  /** ADMIN+ (OWNER to invite an OWNER). A new invitation to the same email replaces the pending one. */
  async invite(ctx: RequestContext, input: InviteMemberInput): Promise<InvitationEntity> {
    const organizationId = parseId(input.organizationId, 'organizationId');
    const actor = await this.access.require(ctx, organizationId, Role.ADMIN);
    if (input.role === Role.OWNER && actor.role !== Role.OWNER)
      throw new ForbiddenError('Only an OWNER invites an OWNER');
    const email = normaliseEmail(input.email);
    const invitee = await this.identity.findByEmail(email);
    if (invitee && (await this.access.isMember(organizationId, invitee.id))) {
      throw new ConflictError(`${email} is already a member`);
    }

    return this.uow.transaction(async (tx) => {
      const invitations = tx.get(InvitationsRepository);
      await invitations.revokePending(organizationId, email);
      // The id is chosen here because the token is derived from it: the mail handler can then send it without it being stored or published.
      const id = randomUUID();
      const created = await invitations.insert({
        id,
        organizationId,
        email,
        role: input.role,
        tokenHash: hashOpaqueToken(this.tokens.tokenFor(id)),
        invitedByUserId: actor.userId,
        expiresAt: new Date(Date.now() + this.ttlSeconds * 1000),
      });
      // The mail goes out from this event's handler: a slow or failing mail server can neither roll back nor hold up the invitation.
      await this.events.publish(tx, ctx, {
        type: 'member.invited',
        organizationId,
        subject: { type: 'invitation', id },
        data: { invitationId: id, email, role: input.role, expiresAt: created.expiresAt.toISOString() },
      });
      return created;
    });
  }

  /** The viewer's email must be the invited one; a token works once. */
  async accept(ctx: RequestContext, token: string): Promise<MembershipEntity> {
    const userId = requireUserId(ctx);
    const invitation = looksLikeOpaqueToken(token)
      ? await this.uow.get(InvitationsRepository).byTokenHash(hashOpaqueToken(token))
      : undefined;
    if (!invitation) throw new NotFoundError('Invitation');
    if (invitation.acceptedAt) throw new ConflictError('This invitation has already been accepted');
    if (invitation.revokedAt)
      throw BadUserInputError.field('token', 'This invitation was replaced by a newer one; use the latest');
    if (invitation.expiresAt.getTime() <= Date.now())
      throw BadUserInputError.field('token', 'This invitation has expired; ask for a new one');
    const viewer = await this.identity.findById(ctx, userId);
    if (!viewer || viewer.email !== invitation.email)
      throw new ForbiddenError('This invitation was sent to another email address');
    if (
      !viewer.emailVerified &&
      (await this.uow.get(OrganizationsRepository).getById(invitation.organizationId)).requireVerifiedEmail
    ) {
      throw new EmailNotVerifiedError(
        'This organization accepts only members with a verified email: verify yours first',
      );
    }

    try {
      const membership = await this.uow.transaction(async (tx) => {
        if (!(await tx.get(InvitationsRepository).markAccepted(invitation.id)))
          throw new ConflictError('This invitation has already been accepted');
        const created = await tx
          .get(MembershipsRepository)
          .insert({ organizationId: invitation.organizationId, userId, role: invitation.role });
        await this.events.publish(tx, ctx, {
          type: 'member.joined',
          organizationId: invitation.organizationId,
          subject: { type: 'membership', id: created.id },
          data: { membershipId: created.id, userId, role: invitation.role, invitationId: invitation.id },
        });
        return created;
      });
      this.access.forget(ctx, invitation.organizationId);
      return membership;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('You are already a member of this organization');
      throw error;
    }
  }
}
