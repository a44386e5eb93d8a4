import type { Mailer } from '../../platform/mail/mailer';
import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import { InvitationEntity } from './invitation.entity';
import { invitationMailConsumer, InvitationTokens } from './invitation-mail';
import { InvitationResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';
import { MembershipEntity } from './membership.entity';
import { MembershipResolver, UserMembershipsResolver } from './memberships.resolver';
import { MembershipsService } from './memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationEntity } from './organization.entity';
import type { OrganizationEvents } from './organization.events';
import { OrganizationResolver } from './organizations.resolver';
import { OrganizationsService } from './organizations.service';

export interface OrganizationsDeps extends PlatformDeps {
  identity: IdentityService;
  mailer: Mailer;
}

export interface OrganizationsExports {
  /** The authorization helper: `access.require(ctx, organizationId, Role.ADMIN)`. */
  access: OrganizationAccess;
  organizations: OrganizationsService;
}

export const organizationsModule = defineModule<OrganizationsDeps, OrganizationsExports>({
  name: 'organizations',
  entities: [OrganizationEntity, MembershipEntity, InvitationEntity],
  resolvers: [OrganizationResolver, MembershipResolver, UserMembershipsResolver, InvitationResolver],
  build({ config, dataSource, events, identity, mailer }) {
    const publisher = events.typed<OrganizationEvents>();
    const access = new OrganizationAccess(dataSource);
    const organizations = new OrganizationsService(dataSource, access, publisher);
    const memberships = new MembershipsService(dataSource, access, publisher);
    const tokens = new InvitationTokens(config.jwtSecret);
    const invitations = new InvitationsService(dataSource, access, identity, tokens, config.invitationTtlSeconds, publisher);
    return {
      resolvers: [
        new OrganizationResolver(organizations),
        new MembershipResolver(memberships, organizations, identity),
        new UserMembershipsResolver(memberships),
        new InvitationResolver(invitations, organizations),
      ],
      exports: { access, organizations },
      consumers: [invitationMailConsumer(dataSource, mailer, tokens, { appUrl: config.APP_URL })],
    };
  },
});
