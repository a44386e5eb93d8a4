import type { DataSource } from 'typeorm';
import { WakeableLoop } from '../../platform/events/loop';
import type { Logger } from '../../platform/logging/logger';
import type { SecretBox } from './secret-box';
import { signWebhook } from './signature';
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

interface DueDelivery {
  id: string;
  eventId: string;
  payload: string;
  attempts: number;
  url: string;
  secretSealed: string;
  active: boolean;
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
    private readonly dataSource: DataSource,
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
    const due = await this.claim();
    await Promise.all(due.map((delivery) => this.attempt(delivery)));
    return due.length === this.settings.concurrency;
  }

  private async claim(): Promise<DueDelivery[]> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM webhook_deliveries
          WHERE status = 'PENDING' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
          ORDER BY next_attempt_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d SET locked_until = now() + $2 * interval '1 millisecond'
         FROM due, webhook_endpoints e
        WHERE d.id = due.id AND e.id = d.endpoint_id
       RETURNING d.id, d.event_id AS "eventId", d.payload, d.attempts, e.url, e.secret_sealed AS "secretSealed", e.active`,
      [this.settings.concurrency, this.settings.timeoutMs + 30_000],
    )) as [DueDelivery[], number];
    return rows;
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const attempts = delivery.attempts + 1;
    if (!delivery.active) {
      await this.record(delivery.id, attempts - 1, 'FAILED', { error: 'the endpoint is disabled' }, null);
      return;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook([this.secrets.open(delivery.secretSealed)], delivery.eventId, timestamp, delivery.payload);
    const result = await sendWebhook(
      delivery.url,
      delivery.payload,
      { 'webhook-id': delivery.eventId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
      { timeoutMs: this.settings.timeoutMs, allowPrivateNetworks: this.settings.allowPrivateNetworks },
    );
    if (!result.error) {
      await this.record(delivery.id, attempts, 'SUCCEEDED', result, null);
      return;
    }
    if (result.status === 410) {
      await this.dataSource.query(`UPDATE webhook_endpoints SET active = false, disabled_reason = $2 WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)`, [
        delivery.id,
        'the receiver answered 410 Gone',
      ]);
      await this.record(delivery.id, attempts, 'FAILED', result, null);
      return;
    }
    if (attempts >= this.settings.maxAttempts) {
      await this.record(delivery.id, attempts, 'FAILED', result, null);
      return;
    }
    await this.record(delivery.id, attempts, 'PENDING', result, this.nextDelayMs(attempts, result));
    this.logger.info('webhook delivery failed; retrying', { deliveryId: delivery.id, eventId: delivery.eventId, attempts, error: result.error });
  }

  /** The schedule's delay with ±10% jitter, or the receiver's Retry-After when that is longer. */
  private nextDelayMs(attempts: number, result: SendResult): number {
    const { scheduleMs } = this.settings;
    const base = scheduleMs[Math.min(attempts, scheduleMs.length) - 1] ?? 0;
    const jittered = Math.round(base * (0.9 + Math.random() * 0.2));
    const retryAfterMs = result.status && RETRIED_WITH_RETRY_AFTER.has(result.status) && result.retryAfterSeconds ? result.retryAfterSeconds * 1000 : 0;
    return Math.max(jittered, retryAfterMs);
  }

  private async record(id: string, attempts: number, status: 'PENDING' | 'SUCCEEDED' | 'FAILED', result: SendResult, delayMs: number | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET status = $2, attempts = $3, last_response_status = $4, last_error = $5, locked_until = NULL, updated_at = now(),
              next_attempt_at = CASE WHEN $6::int IS NULL THEN NULL ELSE now() + $6::int * interval '1 millisecond' END
        WHERE id = $1`,
      [id, status, attempts, result.status ?? null, result.error?.slice(0, 1000) ?? null, delayMs],
    );
  }
}
