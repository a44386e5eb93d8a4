import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, type Connection } from '../../platform/pagination';
import type { MembershipsService } from './memberships.service';
import { CreateOrganizationInput, UpdateOrganizationSettingsInput } from './organization.inputs';
import { Membership, MembershipConnection, Organization } from './organization.types';
import type { OrganizationsService } from './organizations.service';
import { Role } from './role';

@Resolver(() => Organization)
export class OrganizationResolver {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly memberships: MembershipsService,
  ) {}

  @Query(() => Organization, {
    nullable: true,
    description: 'NOT_FOUND when it does not exist or the viewer is not a member; UNAUTHENTICATED when anonymous.',
  })
  organization(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Organization> {
    return this.organizations.get(ctx, id);
  }

  @Authorized()
  @Mutation(() => Organization, { description: 'The creator becomes its OWNER. CONFLICT when the slug is taken.' })
  createOrganization(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput,
  ): Promise<Organization> {
    return this.organizations.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => Organization, { description: 'ADMIN+. Settings left out stay as they are.' })
  updateOrganizationSettings(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateOrganizationSettingsInput) input: UpdateOrganizationSettingsInput,
  ): Promise<Organization> {
    return this.organizations.updateSettings(ctx, input);
  }

  @FieldResolver(() => Role, { description: "The viewer's role in this organization." })
  viewerRole(@Root() organization: Organization, @Ctx() ctx: RequestContext): Promise<Role> {
    return this.organizations.viewerRole(ctx, organization.id);
  }

  @FieldResolver(() => MembershipConnection, { description: 'Oldest first. `first` is 1 to 100.' })
  members(
    @Root() organization: Organization,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Connection<Membership>> {
    return this.memberships.page(ctx, organization.id, page);
  }
}
