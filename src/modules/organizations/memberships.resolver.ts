import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { ForbiddenError, NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { User, type IdentityService } from '../identity';
import type { MembershipsService } from './memberships.service';
import { ChangeMemberRoleInput } from './organization.inputs';
import { Membership, Organization } from './organization.types';
import type { OrganizationsService } from './organizations.service';

@Resolver(() => Membership)
export class MembershipResolver {
  constructor(
    private readonly memberships: MembershipsService,
    private readonly organizations: OrganizationsService,
    private readonly identity: IdentityService,
  ) {}

  @Authorized()
  @Mutation(() => Membership, {
    description:
      "ADMIN+. Only an OWNER grants OWNER or changes an OWNER's role; the last OWNER cannot be demoted (CONFLICT).",
  })
  changeMemberRole(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ChangeMemberRoleInput) input: ChangeMemberRoleInput,
  ): Promise<Membership> {
    return this.memberships.changeRole(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'ADMIN+, or yourself to leave. Only an OWNER removes an OWNER; the last OWNER cannot leave (CONFLICT).',
  })
  removeMember(@Ctx() ctx: RequestContext, @Arg('membershipId', () => ID) membershipId: string): Promise<boolean> {
    return this.memberships.remove(ctx, membershipId);
  }

  @FieldResolver(() => User)
  async user(@Root() membership: Membership, @Ctx() ctx: RequestContext): Promise<User> {
    const user = await this.identity.findById(ctx, membership.userId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  @FieldResolver(() => Organization)
  async organization(@Root() membership: Membership, @Ctx() ctx: RequestContext): Promise<Organization> {
    const organization = await this.organizations.findById(ctx, membership.organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }
}

@Resolver(() => User)
export class UserMembershipsResolver {
  constructor(private readonly membershipsService: MembershipsService) {}

  @FieldResolver(() => [Membership], {
    description: "The user's organizations, oldest first. Only on the viewer; FORBIDDEN otherwise.",
  })
  memberships(@Root() user: User, @Ctx() ctx: RequestContext): Promise<Membership[]> {
    const isViewer = user.authenticatedHere || (ctx.viewer.kind === 'user' && ctx.viewer.userId === user.id);
    if (!isViewer) throw new ForbiddenError("Only the viewer's own memberships are visible");
    return this.membershipsService.forUser(user.id);
  }
}
