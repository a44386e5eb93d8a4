import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import type { InvitationsService } from './invitations.service';
import { InviteMemberInput } from './organization.inputs';
import { Invitation, Membership, Organization } from './organization.types';
import type { OrganizationsService } from './organizations.service';

@Resolver(() => Invitation)
export class InvitationResolver {
  constructor(
    private readonly invitations: InvitationsService,
    private readonly organizations: OrganizationsService,
  ) {}

  @Authorized()
  @Mutation(() => Invitation, {
    description: 'ADMIN+ (OWNER to invite an OWNER). The token goes out by mail; CONFLICT when already a member.',
  })
  inviteMember(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => InviteMemberInput) input: InviteMemberInput,
  ): Promise<Invitation> {
    return this.invitations.invite(ctx, input);
  }

  @Authorized()
  @Mutation(() => Membership, {
    description:
      "The viewer's email must be the invited one (FORBIDDEN). A token works once (CONFLICT); an expired or replaced one is BAD_USER_INPUT.",
  })
  acceptInvitation(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<Membership> {
    return this.invitations.accept(ctx, token);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() invitation: Invitation, @Ctx() ctx: RequestContext): Promise<Organization> {
    const organization = await this.organizations.findById(ctx, invitation.organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }
}
