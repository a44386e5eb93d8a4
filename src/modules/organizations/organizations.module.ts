import { defineModule, type PlatformDeps, type Slot } from '../../platform/module';
import type { AccountRemoval, EmailVisibility, IdentityService } from '../identity';
import { InvitationEntity } from './invitation.entity';
import { invitationMailConsumer, InvitationTokens } from './invitation-mail';
import { InvitationResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';
import { MembershipEntity } from './membership.entity';
import { MembershipResolver, UserMembershipsResolver } from './memberships.resolver';
import { MembershipsService } from './memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationEntity } from './organization.entity';
import { organizationEvents } from './organization.events';
import { OrganizationResolver } from './organizations.resolver';
import { OrganizationsService } from './organizations.service';
import { Organizations1795567134390 } from './migrations/1795567134390-organizations';
import { OrganizationSettings1796200000001 } from './migrations/1796200000001-organization-settings';

export interface OrganizationsDeps extends PlatformDeps {
  identity: IdentityService;
  emailVisibility: Slot<EmailVisibility>;
  accountRemoval: Slot<AccountRemoval>;
}

export interface OrganizationsExports {
  /** The authorization helper: `access.require(ctx, organizationId, Role.ADMIN)`. */
  access: OrganizationAccess;
  organizations: OrganizationsService;
}

export const organizationsModule = defineModule<OrganizationsDeps, OrganizationsExports>({
  name: 'organizations',
  entities: [OrganizationEntity, MembershipEntity, InvitationEntity],
  migrations: [Organizations1795567134390, OrganizationSettings1796200000001],
  events: organizationEvents,
  resolvers: [OrganizationResolver, MembershipResolver, UserMembershipsResolver, InvitationResolver],
  build({ config, uow, events, identity, emailVisibility, accountRemoval, mailer }) {
    const publisher = events.typed(organizationEvents);
    const access = new OrganizationAccess(uow);
    emailVisibility.fill({ canSeeEmail: (ctx, userId) => access.sharesOrganizationWith(ctx, userId) });
    const organizations = new OrganizationsService(uow, access, publisher);
    const memberships = new MembershipsService(uow, access, publisher);
    accountRemoval.fill({ removeUser: (tx, ctx, userId) => memberships.removeUser(tx, ctx, userId) });
    const tokens = new InvitationTokens(config.jwtSecret);
    const invitations = new InvitationsService(uow, access, identity, tokens, config.invitationTtlSeconds, publisher);
    return {
      resolvers: [
        new OrganizationResolver(organizations, memberships),
        new MembershipResolver(memberships, organizations, identity),
        new UserMembershipsResolver(memberships),
        new InvitationResolver(invitations, organizations),
      ],
      exports: { access, organizations },
      consumers: [invitationMailConsumer(uow, mailer, tokens, { appUrl: config.APP_URL })],
    };
  },
});
