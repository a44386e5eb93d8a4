import { registerEnumType } from 'type-graphql';

export enum Role {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}

registerEnumType(Role, { name: 'Role', description: 'OWNER > ADMIN > MEMBER.' });

const RANK: Record<Role, number> = { [Role.MEMBER]: 1, [Role.ADMIN]: 2, [Role.OWNER]: 3 };

/** Whether `role` is `minimum` or higher. */
export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}
