import type { Mailer } from '../../platform/mail/mailer';
import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import { InvitationEntity } from './invitation.entity';
import { InvitationResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';
import { MembershipEntity } from './membership.entity';
import { MembershipResolver, UserMembershipsResolver } from './memberships.resolver';
import { MembershipsService } from './memberships.service';
import { OrganizationAccess } from './organization-access';
import { OrganizationEntity } from './organization.entity';
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
  build({ config, dataSource, logger, identity, mailer }) {
    const access = new OrganizationAccess(dataSource);
    const organizations = new OrganizationsService(dataSource, access);
    const memberships = new MembershipsService(dataSource, access);
    const invitations = new InvitationsService(
      dataSource,
      access,
      identity,
      mailer,
      { ttlSeconds: config.invitationTtlSeconds, appUrl: config.APP_URL },
      logger,
    );
    return {
      resolvers: [
        new OrganizationResolver(organizations),
        new MembershipResolver(memberships, organizations, identity),
        new UserMembershipsResolver(memberships),
        new InvitationResolver(invitations, organizations),
      ],
      exports: { access, organizations },
    };
  },
});
