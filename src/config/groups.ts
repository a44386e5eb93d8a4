import { AuthConfig } from './auth.config';
import { DatabaseConfig } from './database.config';
import { EventsConfig } from './events.config';
import { HttpConfig } from './http.config';
import { KeysConfig } from './keys.config';
import { LimitsConfig } from './limits.config';
import { LiveConfig } from './live.config';
import { LoggingConfig } from './logging.config';
import { MailConfig } from './mail.config';
import { ProcessConfig } from './process.config';
import { RedisConfig } from './redis.config';
import { TelemetryConfig } from './telemetry.config';
import { WebhooksConfig } from './webhooks.config';

/** Every settings group, in .env.example's order: loadConfig reads and validates each, and Config carries all their fields. */
export const CONFIG_GROUPS = [
  ProcessConfig,
  HttpConfig,
  DatabaseConfig,
  LoggingConfig,
  AuthConfig,
  KeysConfig,
  LimitsConfig,
  LiveConfig,
  MailConfig,
  RedisConfig,
  EventsConfig,
  WebhooksConfig,
  TelemetryConfig,
] as const;

type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (intersection: infer I) => void
  ? I
  : never;

/** The fields of every group in one type, derived from CONFIG_GROUPS so that a group cannot be typed on Config without being loaded. */
export type ConfigSettings = UnionToIntersection<InstanceType<(typeof CONFIG_GROUPS)[number]>>;
