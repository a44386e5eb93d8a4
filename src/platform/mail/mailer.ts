import type { Transporter } from 'nodemailer';
import type { MailTransport } from '../../config/config';
import type { Logger } from '../logging/logger';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The same message as HTML, sent beside the text as multipart/alternative. */
  html?: string;
  /** `<unique@domain>`; the same on a retry, so a receiver can tell a repeat. Generated when absent. */
  messageId?: string;
  /** Extra header fields (List-Unsubscribe, say). */
  headers?: Record<string, string>;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface MailerOptions {
  transport: MailTransport;
  from: string;
  smtpUrl?: string;
  /** In production the log transport withholds bodies: they carry tokens, and logs are not a mailbox. */
  withholdBodies: boolean;
  logger: Logger;
}

/** Development's mailbox: the message, links included, goes to the log. */
class LogMailer implements Mailer {
  constructor(private readonly options: MailerOptions) {}

  async send(message: MailMessage): Promise<void> {
    const body = this.options.withholdBodies ? { bodyWithheld: true } : { text: message.text };
    this.options.logger.info('mail (log transport: not delivered)', {
      to: message.to,
      subject: message.subject,
      ...(message.messageId ? { messageId: message.messageId } : {}),
      ...body,
    });
  }
}

class SmtpMailer implements Mailer {
  private readonly transporter: Transporter;

  constructor(private readonly options: MailerOptions & { smtpUrl: string }) {
    // nodemailer is loaded only for MAIL_TRANSPORT=smtp.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    const { createTransport } = require('nodemailer') as typeof import('nodemailer');
    this.transporter = createTransport(options.smtpUrl);
  }

  async send(message: MailMessage): Promise<void> {
    await this.transporter.sendMail({ from: this.options.from, ...message });
    this.options.logger.info('mail sent', { to: message.to, subject: message.subject });
  }
}

/** Keeps every message in memory, for tests to read what was sent. */
export class CaptureMailer implements Mailer {
  readonly sent: MailMessage[] = [];

  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }
}

/** Socket errors that mean no connection was made, so nothing reached the server. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True when a failed send certainly did not hand the message over: the
 * server answered with a refusal (a 4xx or 5xx reply), or no connection was
 * ever made. Any other failure (a connection lost or a timeout mid-way) may
 * have come after the server accepted it.
 */
export function mailSurelyNotAccepted(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { responseCode, code, originalCode } = error as {
    responseCode?: unknown;
    code?: unknown;
    originalCode?: unknown;
  };
  if (typeof responseCode === 'number' && responseCode >= 400) return true;
  return code === 'EDNS' || NEVER_CONNECTED.has(String(originalCode ?? code));
}

export function createMailer(options: MailerOptions): Mailer {
  switch (options.transport) {
    case 'log':
      return new LogMailer(options);
    case 'smtp':
      if (!options.smtpUrl) throw new Error('MAIL_TRANSPORT=smtp needs SMTP_URL');
      return new SmtpMailer({ ...options, smtpUrl: options.smtpUrl });
    case 'capture':
      return new CaptureMailer();
  }
}
