export { organizationsModule, type OrganizationsDeps, type OrganizationsExports } from './organizations.module';
export type { OrganizationAccess } from './organization-access';
export type { OrganizationsService } from './organizations.service';
export { Organization, Membership, Invitation } from './organization.types';
export { Role, atLeast } from './role';
export { membershipSql } from './membership-sql';
export { type OrganizationEvents } from './organization.events';
