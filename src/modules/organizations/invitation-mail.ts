import { createHmac } from 'node:crypto';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { defineConsumer, type EventConsumer } from '../../platform/events/event';
import type { Mailer } from '../../platform/mail/mailer';
import { hashOpaqueToken } from '../../platform/opaque-tokens';
import { InvitationsRepository } from './invitations.repository';
import type { OrganizationEvents } from './organization.events';
import { OrganizationsRepository } from './organizations.repository';

/**
 * An invitation's token is an HMAC of its id under the server secret: it
 * never has to be stored or put in an event (events reach audit logs and
 * webhooks), and the mail handler can produce it again on a retry. Only its
 * hash is stored, as before.
 */
export class InvitationTokens {
  constructor(private readonly secret: string) {}

  tokenFor(invitationId: string): string {
    return createHmac('sha256', this.secret).update(`groundwork invitation ${invitationId}`).digest('base64url');
  }
}

export interface InvitationMailSettings {
  /** The frontend's base URL; the accept link is `<appUrl>/invitations/accept?token=...`. */
  appUrl: string;
}

/**
 * The organizations module's consumer: mails the invitation once `member.invited` has committed.
 * Not in ctx.transaction: that marks the event handled at its commit, so the send would either go unretried or hold a transaction (embedded: the only connection) on the mail server.
 */
export function invitationMailConsumer(
  uow: UnitOfWork,
  mailer: Mailer,
  tokens: InvitationTokens,
  settings: InvitationMailSettings,
): EventConsumer {
  return defineConsumer<OrganizationEvents>('organizations', {
    'member.invited': async (event, { logger }) => {
      const invitations = uow.get(InvitationsRepository);
      const invitation = await invitations.byId(event.data.invitationId);
      if (
        !invitation ||
        invitation.acceptedAt ||
        invitation.revokedAt ||
        invitation.expiresAt.getTime() <= Date.now()
      ) {
        logger.info('invitation no longer pending: not mailed', { invitationId: event.data.invitationId });
        return;
      }
      const token = tokens.tokenFor(invitation.id);
      if (hashOpaqueToken(token) !== invitation.tokenHash) {
        // The secret changed since the invitation was made (a development restart, a rotation): the new token replaces the old.
        await invitations.setTokenHash(invitation.id, hashOpaqueToken(token));
      }
      const organization = await uow.get(OrganizationsRepository).getById(invitation.organizationId);
      const link = `${settings.appUrl.replace(/\/+$/, '')}/invitations/accept?token=${token}`;
      await mailer.send({
        to: invitation.email,
        subject: `You are invited to join ${organization.name}`,
        text: [
          `You have been invited to join ${organization.name} as ${invitation.role}.`,
          '',
          `Accept the invitation: ${link}`,
          '',
          `The link works once and expires on ${invitation.expiresAt.toISOString()}.`,
        ].join('\n'),
      });
    },
  });
}
