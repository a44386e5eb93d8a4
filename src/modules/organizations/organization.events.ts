import { defineEvents } from '../../platform/events/catalog';
import type { Role } from './role';

/** The events this module publishes: type -> `data` (a type alias, not an interface: it must fit EventMap's index signature). Subjects: the organization, the invitation, or the membership. */
export type OrganizationEvents = {
  'organization.created': { name: string; slug: string };
  'organization.settings_changed': { changes: { requireVerifiedEmail?: { from: boolean; to: boolean } } };
  'member.invited': { invitationId: string; email: string; role: Role; expiresAt: string };
  'member.joined': { membershipId: string; userId: string; role: Role; invitationId: string };
  'member.role_changed': { membershipId: string; userId: string; previousRole: Role; role: Role };
  /** `left`: the member removed themself; `accountDeleted`: by deleting their account (present only then). */
  'member.removed': { membershipId: string; userId: string; role: Role; left: boolean; accountDeleted?: true };
};

/** What consumers must know of each event: the compiler refuses a type of OrganizationEvents left out. */
export const organizationEvents = defineEvents<OrganizationEvents>({
  'organization.created': {
    description: 'An organization was created; its creator is its OWNER.',
    webhook: true,
    audit: (event) => `created the organization "${event.data.name}"`,
  },
  'organization.settings_changed': {
    description: "An organization's settings changed (data.changes: each setting's from and to).",
    webhook: true,
    audit: (event) =>
      `changed the settings: ${Object.entries(event.data.changes)
        .map(([name, change]) => `${name} ${String(change?.from)} -> ${String(change?.to)}`)
        .join(', ')}`,
  },
  'member.invited': {
    description: 'Someone was invited by email; the token never travels in the event.',
    webhook: true,
    audit: (event) => `invited ${event.data.email} as ${event.data.role}`,
  },
  'member.joined': {
    description: 'An invitation was accepted.',
    webhook: true,
    audit: (event) => `joined as ${event.data.role}`,
  },
  'member.role_changed': {
    description: "A member's role changed.",
    webhook: true,
    audit: (event) => `changed a member's role from ${event.data.previousRole} to ${event.data.role}`,
  },
  'member.removed': {
    description: 'A member was removed, or left (data.left).',
    webhook: true,
    audit: (event) =>
      event.data.accountDeleted
        ? 'left the organization by deleting their account'
        : event.data.left
          ? 'left the organization'
          : `removed a ${event.data.role} member`,
  },
});
