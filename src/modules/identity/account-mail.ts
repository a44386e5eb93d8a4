import type { MailMessage } from '../../platform/mail/mailer';
import { escapeHtml } from '../../platform/html';

export interface AccountMailSettings {
  /** PRODUCT_NAME: how mail names the product. */
  productName: string;
  /** APP_URL: the frontend, where each link lands. */
  appUrl: string;
}

/** A mail's content before it is rendered as text and HTML. */
interface MailContent {
  subject: string;
  paragraphs: string[];
  action?: { label: string; path: string; token: string };
  /** Lines after the link (how long it works, what to do if it was not you). */
  after?: string[];
}

const NOT_YOU = 'If this was not you, you can ignore this message.';

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return seconds === 86_400 ? '24 hours' : `${seconds / 86_400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

/** The account mails, each as plain text and HTML, with the product's name and links from the settings (nothing hard-coded). */
export class AccountMails {
  constructor(private readonly settings: AccountMailSettings) {}

  /** A page of the frontend. */
  page(path: string): string {
    return `${this.settings.appUrl.replace(/\/+$/, '')}${path}`;
  }

  /** A page of the frontend that takes a mailed token. */
  link(path: string, token: string): string {
    return `${this.page(path)}?token=${token}`;
  }

  verifyEmail(to: string, token: string, ttlSeconds: number): MailMessage {
    return this.render(to, {
      subject: `Verify your email for ${this.settings.productName}`,
      paragraphs: [`Please confirm that ${to} is your address.`],
      action: { label: 'Verify my email', path: '/verify-email', token },
      after: [`The link works once, for ${duration(ttlSeconds)}.`, NOT_YOU],
    });
  }

  alreadyRegistered(to: string, verification?: { token: string; ttlSeconds: number }): MailMessage {
    return this.render(to, {
      subject: `You already have a ${this.settings.productName} account`,
      paragraphs: [
        `Someone tried to sign up for ${this.settings.productName} with ${to}, which already has an account. No new account was made.`,
        `If it was you, log in at ${this.page('/login')}, or reset your password at ${this.page('/reset-password')} if you forgot it.`,
      ],
      ...(verification
        ? { action: { label: 'Verify my email', path: '/verify-email', token: verification.token } }
        : {}),
      after: [
        ...(verification
          ? [
              `Your address is not verified yet; the link above verifies it (once, for ${duration(verification.ttlSeconds)}).`,
            ]
          : []),
        NOT_YOU,
      ],
    });
  }

  resetPassword(to: string, token: string, ttlSeconds: number): MailMessage {
    return this.render(to, {
      subject: `Reset your ${this.settings.productName} password`,
      paragraphs: ['Someone asked to reset the password of your account.'],
      action: { label: 'Choose a new password', path: '/reset-password', token },
      after: [`The link works once, for ${duration(ttlSeconds)}. Resetting signs you out everywhere.`, NOT_YOU],
    });
  }

  passwordChanged(to: string, reset: boolean): MailMessage {
    return this.render(to, {
      subject: `Your ${this.settings.productName} password was changed`,
      paragraphs: [
        reset
          ? 'Your password was reset from a link mailed to this address, and every session was signed out.'
          : 'Your password was changed, and your other sessions were signed out.',
        `If this was not you, reset your password at once: ${this.page('/reset-password')}`,
      ],
    });
  }

  confirmEmailChange(to: string, token: string, ttlSeconds: number): MailMessage {
    return this.render(to, {
      subject: `Confirm your new email for ${this.settings.productName}`,
      paragraphs: [
        `Someone asked to move a ${this.settings.productName} account to ${to}. The change happens once this address is confirmed.`,
      ],
      action: { label: 'Confirm my new email', path: '/confirm-email', token },
      after: [`The link works once, for ${duration(ttlSeconds)}.`, NOT_YOU],
    });
  }

  emailChangeRequested(to: string): MailMessage {
    return this.render(to, {
      subject: `A change of your ${this.settings.productName} email was requested`,
      paragraphs: [
        'Someone signed in to your account asked to move it to a new email address. Nothing changes unless the new address is confirmed from the link sent there.',
        `If this was not you, change your password at once: ${this.page('/reset-password')}`,
      ],
    });
  }

  emailChanged(to: string): MailMessage {
    return this.render(to, {
      subject: `Your ${this.settings.productName} email was changed`,
      paragraphs: [
        'Your account now signs in with a new email address; mail about it no longer comes here.',
        `If this was not you, contact us from ${this.settings.appUrl}.`,
      ],
    });
  }

  private render(to: string, content: MailContent): MailMessage {
    const product = this.settings.productName;
    const link = content.action ? this.link(content.action.path, content.action.token) : undefined;
    const text = [
      ...content.paragraphs.flatMap((paragraph) => [paragraph, '']),
      ...(content.action && link ? [`${content.action.label}: ${link}`, ''] : []),
      ...(content.after ?? []).flatMap((line) => [line, '']),
      `— ${product}, ${this.settings.appUrl}`,
    ].join('\n');
    const html = [
      '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
      ...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
      ...(content.action && link
        ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(content.action.label)}</a></p>`]
        : []),
      ...(content.after ?? []).map((line) => `<p>${escapeHtml(line)}</p>`),
      `<p>— <a href="${escapeHtml(this.settings.appUrl)}">${escapeHtml(product)}</a></p>`,
      '</body></html>',
    ].join('\n');
    return { to, subject: content.subject, text, html };
  }
}
