import { defineEvents } from '../../platform/events/catalog';

/**
 * The events this module publishes: type -> `data`. None belongs to an
 * organization (organizationId is null), so none reaches an organization's
 * audit log or webhooks; the audited ones go to the account's own audit log
 * (`myAccountActivity`), without any email (auditData). The module's own
 * consumer sends the mail they call for, after the request's transaction
 * committed. Subjects: the user, or, for a request by address (which may have
 * no account), the request itself.
 */
export type IdentityEvents = {
  'user.signed_up': { userId: string };
  'user.sign_up_repeated': { userId: string };
  'user.verification_requested': { email: string };
  'user.email_verified': { userId: string };
  'user.password_reset_requested': { email: string };
  'user.password_changed': { userId: string; reset: boolean; sessionsRevoked: number };
  'user.email_change_requested': { userId: string; newEmail: string };
  'user.email_changed': { userId: string; previousEmail: string };
  'user.sessions_revoked': { userId: string; sessionIds: string[]; everywhere: boolean };
  'user.deleted': { userId: string };
};

export const identityEvents = defineEvents<IdentityEvents>({
  'user.signed_up': {
    description: 'An account was created; its verification mail goes out.',
    webhook: false,
    audit: () => 'created their account',
  },
  'user.sign_up_repeated': {
    description:
      'SIGNUP_MODE=quiet: someone signed up with the email of an existing account; its owner is mailed instead.',
    webhook: false,
    // Not audited: a stranger's attempt, which would let anyone write into an account's log; the owner is mailed.
    audit: null,
  },
  'user.verification_requested': {
    description: 'A new verification link was asked for an address (mailed if it has an unverified account).',
    webhook: false,
    // Not audited: it names an address, not an account (it may have none), and the audit log keeps no email.
    audit: null,
  },
  'user.email_verified': {
    description: "A user proved they own their account's email.",
    webhook: false,
    audit: () => 'verified their email',
  },
  'user.password_reset_requested': {
    description: 'A password reset was asked for an address (mailed if it has an account).',
    webhook: false,
    // Not audited: it names an address, not an account (it may have none), and the audit log keeps no email.
    audit: null,
  },
  'user.password_changed': {
    description:
      'A password was changed, or reset from a mailed link (data.reset); a notice goes to the account’s address.',
    webhook: false,
    audit: (event) => (event.data.reset ? 'reset their password' : 'changed their password'),
  },
  'user.email_change_requested': {
    description: 'A user asked to move their account to a new address; the link goes there, a notice to the old one.',
    webhook: false,
    audit: () => 'asked to change their email',
    auditData: ({ userId }) => ({ userId }),
  },
  'user.email_changed': {
    description: 'A user confirmed their new address; a notice goes to the old one.',
    webhook: false,
    audit: () => 'changed their email',
    auditData: ({ userId }) => ({ userId }),
  },
  'user.sessions_revoked': {
    description: 'Sessions of a user were ended: one (revokeSession) or every one (logOutEverywhere).',
    webhook: false,
    audit: (event) => (event.data.everywhere ? 'logged out everywhere' : 'ended a session'),
  },
  'user.deleted': {
    description:
      'An account was deleted: consumers drop what they hold about the user (subject.id). It carries no email.',
    webhook: false,
    audit: () => 'deleted their account',
  },
});
