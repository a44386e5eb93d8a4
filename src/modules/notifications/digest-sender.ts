import type { Clock } from '../../platform/clock';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { retryDelayMs, WakeableLoop } from '../../platform/events/loop';
import type { Logger } from '../../platform/logging/logger';
import { mailSurelyNotAccepted, type Mailer, type MailMessage } from '../../platform/mail/mailer';
import type { IdentityService } from '../identity';
import type { OrganizationAccess } from '../organizations';
import { digestMail, type DigestMailSettings } from './digest-mail';
import { NotificationDigestsRepository, type ClaimedDigest } from './notification-digests.repository';
import { kindOf } from './notification-kinds';
import { NotificationMailPreferencesRepository } from './notification-mail-preferences.repository';
import type { UnsubscribeTokens } from './unsubscribe-tokens';

export interface DigestSenderSettings {
  pollIntervalMs: number;
  /** Digests claimed per step. */
  batchSize: number;
  maxAttempts: number;
  /** How long a claim lasts; it must outlast an SMTP send. */
  claimMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  /** The right-hand side of every Message-ID (MAIL_FROM's domain). */
  messageDomain: string;
  /** Where the unsubscribe route answers: `<PUBLIC_API_URL>/notifications/unsubscribe`. */
  unsubscribeUrl: string;
  unsubscribeTtlMs: number;
  /** How long a finished digest is kept (NOTIFICATION_DIGEST_RETENTION). */
  retentionMs: number;
  mail: DigestMailSettings;
}

/** Finished digests are pruned at most this often per instance (by the sender's clock), PRUNE_BATCH at a time. */
const PRUNE_EVERY_MS = 60 * 60_000;
const PRUNE_BATCH = 1000;

/**
 * Sends due digests, from any instance: a claim (FOR UPDATE SKIP LOCKED, its
 * attempt number a fencing token) gives one sender a digest; just before the
 * SMTP send the claim is marked "handed" in the database. A digest is sent at
 * most once: a claim that lapses unhanded is retried, a handed one whose
 * outcome was never recorded (the sender died between SMTP acceptance and the
 * record) is UNCERTAIN and never sent again. A refusal by the SMTP server is
 * retried with exponential backoff up to maxAttempts. See docs/API.md.
 */
export class DigestSender {
  /** A module worker: started with the app, stopped after the sends in flight. */
  readonly loop: WakeableLoop;
  /** When finished digests were last pruned, by the clock (never, at first). */
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly mailer: Mailer,
    private readonly identity: IdentityService,
    private readonly access: OrganizationAccess,
    private readonly tokens: UnsubscribeTokens,
    private readonly clock: Clock,
    private readonly settings: DigestSenderSettings,
    private readonly logger: Logger,
  ) {
    this.loop = new WakeableLoop(() => this.step(), {
      intervalMs: settings.pollIntervalMs,
      logger,
      failing: 'notification mail sender failing; digests wait',
      recovered: 'notification mail sender recovered',
    });
  }

  private async step(): Promise<boolean> {
    const digests = this.uow.get(NotificationDigestsRepository);
    for (const lapsed of await digests.releaseLapsed(this.clock.now())) {
      if (lapsed.status === 'UNCERTAIN')
        this.logger.warn(
          'notification digest outcome unknown: its sender stopped after handing it to SMTP; not sent again',
          {
            digestId: lapsed.id,
            userId: lapsed.userId,
          },
        );
      else this.logger.info('notification digest released: its sender stopped before sending', { digestId: lapsed.id });
    }
    const { batchSize, claimMs, messageDomain } = this.settings;
    const claimed = await digests.claimDue(this.clock.now(), batchSize, claimMs, messageDomain);
    await Promise.all(claimed.map((claim) => this.deliver(claim)));
    const pruning = await this.pruneIfDue(digests);
    return claimed.length === batchSize || pruning;
  }

  /**
   * Once an hour, the finished digests past retention go (a full batch goes again at the next step, so a backlog
   * drains); every instance may, and deleting twice is harmless. Answers whether more are waiting.
   */
  private async pruneIfDue(digests: NotificationDigestsRepository): Promise<boolean> {
    const now = this.clock.now().getTime();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return false;
    const deleted = await digests.pruneFinished(new Date(now - this.settings.retentionMs), PRUNE_BATCH);
    if (deleted > 0) this.logger.info('notification digests past retention deleted', { deleted });
    if (deleted === PRUNE_BATCH) return true;
    this.prunedAt = now;
    return false;
  }

  private async deliver(claim: ClaimedDigest): Promise<void> {
    const digests = this.uow.get(NotificationDigestsRepository);
    try {
      let message: MailMessage | string;
      try {
        message = await this.compose(claim);
      } catch (error) {
        await this.retryOrFail(claim, error);
        return;
      }
      if (typeof message === 'string') {
        await digests.finish(claim, 'SKIPPED', this.clock.now(), message);
        return;
      }
      if (!(await digests.hand(claim, this.clock.now()))) {
        this.logger.warn('notification digest claim lost before sending; left to its new sender', {
          digestId: claim.id,
        });
        return;
      }
      try {
        await this.mailer.send(message);
      } catch (error) {
        if (mailSurelyNotAccepted(error)) {
          await this.retryOrFail(claim, error);
        } else {
          await digests.finish(claim, 'UNCERTAIN', this.clock.now(), errorText(error));
          this.logger.warn('notification digest outcome unknown: the SMTP exchange broke off; not sent again', {
            digestId: claim.id,
            error: errorText(error),
          });
        }
        return;
      }
      await digests.finish(claim, 'SENT', this.clock.now(), null);
    } catch (error) {
      // The claim lapses: released if the mail was never handed, UNCERTAIN if it was.
      this.logger.error('notification digest not recorded', { digestId: claim.id, error });
    }
  }

  /** The mail, or why there is nothing to send (the text recorded on a SKIPPED digest). */
  private async compose(claim: ClaimedDigest): Promise<MailMessage | string> {
    const recipient = (await this.identity.mailRecipients([claim.userId])).get(claim.userId);
    if (!recipient) return 'the account is deleted or its address is not verified';
    // Chosen now, not when queued: an unsubscribe or a change of mind holds back what is already waiting.
    const choices = await this.uow.get(NotificationMailPreferencesRepository).ofUser(claim.userId);
    const wanted = (await this.uow.get(NotificationDigestsRepository).items(claim.id)).filter(
      (item) => choices.get(item.type) ?? kindOf(item.type)?.mailByDefault ?? false,
    );
    const members = await this.access.membersAmong(
      wanted.map((item) => ({ organizationId: item.organizationId, userId: claim.userId })),
    );
    const items = wanted.filter((item) => members.has(`${item.organizationId}/${claim.userId}`));
    if (items.length === 0) return 'nothing left to mail (opted out, or no longer a member)';
    const expiresAt = new Date(this.clock.now().getTime() + this.settings.unsubscribeTtlMs);
    const url = `${this.settings.unsubscribeUrl}?token=${this.tokens.issue(claim.userId, expiresAt)}`;
    return digestMail(this.settings.mail, recipient, items, claim.messageId, url);
  }

  private async retryOrFail(claim: ClaimedDigest, error: unknown): Promise<void> {
    const digests = this.uow.get(NotificationDigestsRepository);
    const text = errorText(error);
    if (claim.attempts >= this.settings.maxAttempts) {
      await digests.finish(claim, 'FAILED', this.clock.now(), text);
      this.logger.warn('notification digest failed at its last attempt', { digestId: claim.id, error: text });
      return;
    }
    const delay = retryDelayMs(claim.attempts, this.settings.retryBaseMs, this.settings.retryCapMs);
    await digests.retryAt(claim, new Date(this.clock.now().getTime() + delay), text);
    this.logger.info('notification digest not sent; retrying', {
      digestId: claim.id,
      attempts: claim.attempts,
      error: text,
    });
  }
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1000);
}
