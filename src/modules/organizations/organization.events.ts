import { defineEvents } from '../../platform/events/catalog';
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

/** What consumers must know of each event: the compiler refuses a type of OrganizationEvents left out. */
export const organizationEvents = defineEvents<OrganizationEvents>({
  'organization.created': { description: 'An organization was created; its creator is its OWNER.', webhook: true, audit: (event) => `created the organization "${event.data.name}"` },
  'member.invited': {
    description: 'Someone was invited by email; the token never travels in the event.',
    webhook: true,
    audit: (event) => `invited ${event.data.email} as ${event.data.role}`,
  },
  'member.joined': { description: 'An invitation was accepted.', webhook: true, audit: (event) => `joined as ${event.data.role}` },
  'member.role_changed': {
    description: "A member's role changed.",
    webhook: true,
    audit: (event) => `changed a member's role from ${event.data.previousRole} to ${event.data.role}`,
  },
  'member.removed': {
    description: 'A member was removed, or left (data.left).',
    webhook: true,
    audit: (event) => (event.data.left ? 'left the organization' : `removed a ${event.data.role} member`),
  },
});
