import { atLeast, Role } from './role';

const ROLES = Object.values(Role);

/**
 * SQL that is true when `userSql` is a member of `organizationSql` with at
 * least `minimum` (both are SQL expressions: a column, a placeholder). For a
 * repository of another module that checks access inside the statement that
 * reads or writes the row, instead of a membership read before it. It decides
 * nothing else: when such a statement finds no row, the service asks `access`
 * why (NOT_FOUND, FORBIDDEN), on that rare path only.
 */
export function membershipSql(organizationSql: string, userSql: string, minimum: Role = Role.MEMBER): string {
  const roles = ROLES.filter((role) => atLeast(role, minimum));
  const roleCondition =
    roles.length === ROLES.length ? '' : ` AND membership.role IN (${roles.map((role) => `'${role}'`).join(', ')})`;
  return `EXISTS (SELECT 1 FROM memberships membership WHERE membership.organization_id = ${organizationSql} AND membership.user_id = ${userSql}${roleCondition})`;
}
