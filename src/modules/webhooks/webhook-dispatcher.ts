import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { WakeableLoop } from '../../platform/events/loop';
import type { Logger } from '../../platform/logging/logger';
import { traceHeaders } from '../../platform/telemetry/spans';
import { inAttemptSpan } from './webhook-spans';
import type { SecretBox } from './secret-box';
import { signWebhook } from './signature';
import { WebhookDeliveriesRepository, type DueDelivery } from './webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import { WebhookDeliveryStatus } from './webhook.entities';
import { sendWebhook, type SendResult } from './webhook-sender';

export interface DispatcherSettings {
  timeoutMs: number;
  maxAttempts: number;
  /** Delay before attempt n + 1 is scheduleMs[n - 1]; the last entry repeats. */
  scheduleMs: number[];
  allowPrivateNetworks: boolean;
  pollIntervalMs: number;
  concurrency: number;
}

const RETRIED_WITH_RETRY_AFTER = new Set([429, 502, 503, 504]);

/**
 * Sends due deliveries. Any instance may: each claims a batch by setting
 * `locked_until` on rows picked FOR UPDATE SKIP LOCKED, so two never send
 * the same attempt, and a sender that dies leaves rows whose lock lapses.
 * Every outcome is written back to the row: the schedule lives in the
 * database, not in timers.
 */
export class WebhookDispatcher {
  /** A module worker: started with the app, woken when deliveries are created or rescheduled, stopped after the ones in flight. */
  readonly loop: WakeableLoop;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly secrets: SecretBox,
    private readonly settings: DispatcherSettings,
    private readonly logger: Logger,
  ) {
    this.loop = new WakeableLoop(() => this.step(), {
      intervalMs: settings.pollIntervalMs,
      logger,
      failing: 'webhook sender failing; deliveries wait',
      recovered: 'webhook sender recovered',
    });
  }

  private async step(): Promise<boolean> {
    // The claim outlives the attempt's timeout, so a slow receiver's delivery is not claimed twice.
    const due = await this.uow
      .get(WebhookDeliveriesRepository)
      .claimDue(this.settings.concurrency, this.settings.timeoutMs + 30_000);
    await Promise.all(due.map((delivery) => this.attempt(delivery)));
    return due.length === this.settings.concurrency;
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const attempts = delivery.attempts + 1;
    if (!delivery.active) {
      await this.record(
        delivery.id,
        attempts - 1,
        WebhookDeliveryStatus.FAILED,
        { error: 'the endpoint is disabled' },
        null,
      );
      return;
    }
    const result = await inAttemptSpan(delivery, attempts, () => this.send(delivery));
    if (!result.error) {
      await this.record(delivery.id, attempts, WebhookDeliveryStatus.SUCCEEDED, result, null);
      return;
    }
    if (result.status === 410) {
      await this.uow.get(WebhookEndpointsRepository).disableForDelivery(delivery.id, 'the receiver answered 410 Gone');
      await this.record(delivery.id, attempts, WebhookDeliveryStatus.FAILED, result, null);
      return;
    }
    if (attempts >= this.settings.maxAttempts) {
      await this.record(delivery.id, attempts, WebhookDeliveryStatus.FAILED, result, null);
      return;
    }
    await this.record(delivery.id, attempts, WebhookDeliveryStatus.PENDING, result, this.nextDelayMs(attempts, result));
    this.logger.info('webhook delivery failed; retrying', {
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      attempts,
      error: result.error,
    });
  }

  /** A secret this instance cannot open (a key it lacks mid-rotation) fails the attempt, to be retried, instead of the whole batch. */
  private async send(delivery: DueDelivery): Promise<SendResult> {
    let secret: string;
    try {
      secret = this.secrets.open(delivery.secretSealed);
    } catch (error) {
      return { error: `the endpoint's secret cannot be opened: ${(error as Error).message}` };
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook([secret], delivery.eventId, timestamp, delivery.payload);
    return sendWebhook(
      delivery.url,
      delivery.payload,
      {
        'webhook-id': delivery.eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
        ...traceHeaders(),
      },
      { timeoutMs: this.settings.timeoutMs, allowPrivateNetworks: this.settings.allowPrivateNetworks },
    );
  }

  /** The schedule's delay with ±10% jitter, or the receiver's Retry-After when that is longer. */
  private nextDelayMs(attempts: number, result: SendResult): number {
    const { scheduleMs } = this.settings;
    const base = scheduleMs[Math.min(attempts, scheduleMs.length) - 1] ?? 0;
    const jittered = Math.round(base * (0.9 + Math.random() * 0.2));
    const retryAfterMs =
      result.status && RETRIED_WITH_RETRY_AFTER.has(result.status) && result.retryAfterSeconds
        ? result.retryAfterSeconds * 1000
        : 0;
    return Math.max(jittered, retryAfterMs);
  }

  private async record(
    id: string,
    attempts: number,
    status: WebhookDeliveryStatus,
    result: SendResult,
    delayMs: number | null,
  ): Promise<void> {
    await this.uow.get(WebhookDeliveriesRepository).recordAttempt(id, {
      status,
      attempts,
      responseStatus: result.status ?? null,
      error: result.error?.slice(0, 1000) ?? null,
      delayMs,
    });
  }
}
