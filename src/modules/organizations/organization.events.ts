import type { Role } from './role';

/** The events this module publishes: type -> `data` (a type alias, not an interface: it must fit EventMap's index signature). Subjects: the organization, the invitation, or the membership. */
export type OrganizationEvents = {
  'organization.created': { name: string; slug: string };
  'member.invited': { invitationId: string; email: string; role: Role; expiresAt: string };
  'member.joined': { membershipId: string; userId: string; role: Role; invitationId: string };
  'member.role_changed': { membershipId: string; userId: string; previousRole: Role; role: Role };
  /** `left`: the member removed themself. */
  'member.removed': { membershipId: string; userId: string; role: Role; left: boolean };
};

export const ORGANIZATION_EVENT_TYPES = [
  'organization.created',
  'member.invited',
  'member.joined',
  'member.role_changed',
  'member.removed',
] as const satisfies readonly (keyof OrganizationEvents)[];
