import { IsBoolean, IsInt, IsString, Matches, Max, Min } from 'class-validator';

/** How webhook deliveries are sent, retried, and kept from reaching where they should not. */
export class WebhooksConfig {
  /** How long a webhook receiver has to answer one delivery. */
  @IsInt()
  @Min(100)
  WEBHOOK_TIMEOUT_MS = 10000;

  /** Attempts per delivery before it is FAILED. */
  @IsInt()
  @Min(1)
  @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 10;

  /** Delays before the 2nd, 3rd, ... attempt (comma-separated durations, ±10% jitter); the last repeats. */
  @Matches(/^\d+\s*[smhd]?(\s*,\s*\d+\s*[smhd]?)*$/, {
    message: '$property must be comma-separated durations such as 5s,5m,30m,2h',
  })
  WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,14h,20h,24h';

  /** Let webhooks reach private, loopback and link-local addresses (local development and tests only). */
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_NETWORKS = false;

  /** Hosts a webhook may reach over plain http (comma-separated, e.g. localhost); every other URL must be https. */
  @IsString()
  WEBHOOK_HTTP_HOSTS = '';

  /** How often due deliveries are looked for when nothing woke the sender. */
  @IsInt()
  @Min(10)
  WEBHOOK_POLL_INTERVAL_MS = 1000;

  /** Deliveries in flight at once per instance. */
  @IsInt()
  @Min(1)
  @Max(256)
  WEBHOOK_CONCURRENCY = 8;
}
