export { identityModule, type EmailVisibility, type IdentityDeps, type IdentityExports } from './identity.module';
export { normaliseEmail, type IdentityService, type AuthResult } from './identity.service';
export { User, Session } from './user.types';
export type { AccountRemoval } from './accounts.service';
export { type IdentityEvents } from './identity.events';
export { userColumnsSql, type UserRow } from './users.repository';
