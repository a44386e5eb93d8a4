export { identityModule, type IdentityExports } from './identity.module';
export type { IdentityService, AuthResult } from './identity.service';
export { User } from './user.types';
