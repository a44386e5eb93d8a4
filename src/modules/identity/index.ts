export { identityModule, type EmailVisibility, type IdentityDeps, type IdentityExports } from './identity.module';
export { normaliseEmail, type IdentityService, type AuthResult } from './identity.service';
export { User } from './user.types';
