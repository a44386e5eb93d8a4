import { IsIn, IsOptional, IsString, Matches, MinLength } from 'class-validator';
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
}

/** SMTP needs somewhere to send to; the log transport in production would silently drop every mail. */
export function checkMail(config: MailConfig & ProcessConfig, problems: string[], warnings: string[]): void {
  if (config.MAIL_TRANSPORT === 'smtp' && !config.SMTP_URL)
    problems.push('SMTP_URL is required when MAIL_TRANSPORT=smtp');
  if (config.NODE_ENV === 'production' && config.MAIL_TRANSPORT === 'log') {
    warnings.push('MAIL_TRANSPORT=log in production: mail is not delivered (set MAIL_TRANSPORT=smtp and SMTP_URL)');
  }
}
