import { createTransport } from 'nodemailer';
import type { MailTransport } from '../../config/config';
import type { Logger } from '../logging/logger';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The same message as HTML, sent beside the text as multipart/alternative. */
  html?: string;
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
      ...body,
    });
  }
}

class SmtpMailer implements Mailer {
  private readonly transporter;

  constructor(private readonly options: MailerOptions & { smtpUrl: string }) {
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
