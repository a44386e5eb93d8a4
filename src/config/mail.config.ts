import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { IsDuration } from './duration';
import type { ProcessConfig } from './process.config';

export type MailTransport = 'log' | 'smtp' | 'capture';

/** How mail leaves the process, and the links it carries (invitations). */
export class MailConfig {
  /** Where the frontend lives: links in mail (invitations) point here. */
  @Matches(/^https?:\/\/.+/, { message: '$property must be an http(s) URL' })
  APP_URL = 'http://localhost:3000';

  /** log (the message goes to the log), smtp (SMTP_URL), or capture (kept in memory, for tests). */
  @IsIn(['log', 'smtp', 'capture'])
  MAIL_TRANSPORT: MailTransport = 'log';

  /** smtp://user:pass@host:587 or smtps://...; required when MAIL_TRANSPORT=smtp. */
  @IsOptional()
  @Matches(/^smtps?:\/\/.+/, { message: '$property must be an smtp:// or smtps:// URL' })
  SMTP_URL: string | undefined = undefined;

  /** The sender of every mail. */
  @IsString()
  @MinLength(3)
  MAIL_FROM = 'groundwork <no-reply@localhost>';

  /** The product's name, as mail (subjects, greetings, signatures) shows it. */
  @IsString()
  @MinLength(1)
  PRODUCT_NAME = 'groundwork';

  /** How long an invitation link works. */
  @IsDuration()
  INVITATION_TTL = '7d';

  /** This API as mail recipients reach it: unsubscribe links point at `<PUBLIC_API_URL>/notifications/unsubscribe`. */
  @Matches(/^https?:\/\/[^?#]+$/, { message: '$property must be an http(s) URL without query or fragment' })
  PUBLIC_API_URL = 'http://localhost:4000';

  /** How long a notification digest collects, from its first notification, before it is mailed (one mail per user per window). */
  @IsDuration()
  NOTIFICATION_DIGEST_WINDOW = '5m';

  /** How often due digests are looked for. */
  @IsInt()
  @Min(10)
  NOTIFICATION_MAIL_POLL_INTERVAL_MS = 5000;

  /** Attempts per digest the SMTP server refuses, before it is FAILED (backoff 1 min doubling to 1 h). */
  @IsInt()
  @Min(1)
  @Max(50)
  NOTIFICATION_MAIL_MAX_ATTEMPTS = 8;

  /** How long a sender's claim on a digest lasts; longer than an SMTP send can take (nodemailer's socket timeout is 10 min). */
  @IsDuration()
  NOTIFICATION_MAIL_CLAIM_TIMEOUT = '15m';

  /** How long the unsubscribe link of a notification mail works. */
  @IsDuration()
  NOTIFICATION_UNSUBSCRIBE_TTL = '90d';

  /** How long a finished digest (sent, failed, uncertain, skipped) is kept, as the record of what was mailed; then deleted. */
  @IsDuration()
  NOTIFICATION_DIGEST_RETENTION = '30d';
}

/** SMTP needs somewhere to send to; the log transport in production would silently drop every mail. */
export function checkMail(config: MailConfig & ProcessConfig, problems: string[], warnings: string[]): void {
  if (config.MAIL_TRANSPORT === 'smtp' && !config.SMTP_URL)
    problems.push('SMTP_URL is required when MAIL_TRANSPORT=smtp');
  // A deployment whose app is public but whose API URL was left at localhost (the default) mails dead links; an
  // all-local shape (compose on a laptop) is consistent and warns of nothing.
  const local = (url: string) => /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:|\/|$)/.test(url);
  if (
    config.NODE_ENV === 'production' &&
    config.MAIL_TRANSPORT === 'smtp' &&
    local(config.PUBLIC_API_URL) &&
    !local(config.APP_URL)
  ) {
    warnings.push('PUBLIC_API_URL points at localhost in production: unsubscribe links in mail will not work');
  }
  if (config.NODE_ENV === 'production' && config.MAIL_TRANSPORT === 'log') {
    warnings.push('MAIL_TRANSPORT=log in production: mail is not delivered (set MAIL_TRANSPORT=smtp and SMTP_URL)');
  }
}
