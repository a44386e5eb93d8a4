import { checkJwtSecret, checkPreviousJwtSecrets, previousJwtSecrets } from './auth.config';
import { parseDurationSeconds } from './duration';
import { readGroup, validationProblems, type Environment } from './environment';
import { checkEvents, type EventsTransport } from './events.config';
import { checkHttp } from './http.config';
import { CONFIG_GROUPS, type ConfigSettings } from './groups';
import { checkDataEncryptionKeys, parseDataKeys, type DataKey } from './keys.config';
import type { LogFormat } from './logging.config';
import { checkMail } from './mail.config';
import { checkRole } from './process.config';

export type { SignupMode } from './auth.config';
export type { EventsTransport } from './events.config';
export type { LogFormat } from './logging.config';
export type { MailTransport } from './mail.config';
export type { NodeEnv, Role } from './process.config';

/**
 * Every setting of the process, read from the environment once at boot: the
 * fields of each group in CONFIG_GROUPS (src/config/*.config.ts declares them,
 * with their rules and defaults), plus the values derived from them below.
 * Each variable may instead be read from a file named by `<NAME>_FILE`
 * (Docker and Kubernetes secrets). `.env.example` documents each one.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the constructor assigns every group's fields
export interface Config extends ConfigSettings {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Config {
  constructor() {
    Object.assign(this, ...CONFIG_GROUPS.map((group) => new group()));
  }

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }

  get isDevelopment(): boolean {
    return this.NODE_ENV === 'development';
  }

  get logFormat(): LogFormat {
    return this.LOG_FORMAT ?? (this.isDevelopment ? 'pretty' : 'json');
  }

  get sandboxEnabled(): boolean {
    return this.GRAPHQL_SANDBOX ?? !this.isProduction;
  }

  get introspectionEnabled(): boolean {
    return this.GRAPHQL_INTROSPECTION ?? !this.isProduction;
  }

  /** true for any origin, a list of origins, or false for no CORS headers at all. */
  get corsOrigins(): true | string[] | false {
    const raw = this.CORS_ORIGINS?.trim();
    if (raw === undefined) return this.isDevelopment;
    if (raw === '*') return true;
    const origins = raw
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    return origins.length > 0 ? origins : false;
  }

  get trustProxy(): boolean | string[] {
    const raw = this.TRUST_PROXY.trim();
    if (raw === 'true') return true;
    if (raw === 'false' || raw === '') return false;
    return raw.split(',').map((entry) => entry.trim());
  }

  get accessTokenTtlSeconds(): number {
    return parseDurationSeconds(this.ACCESS_TOKEN_TTL)!;
  }

  get refreshTokenTtlSeconds(): number {
    return parseDurationSeconds(this.REFRESH_TOKEN_TTL)!;
  }

  get invitationTtlSeconds(): number {
    return parseDurationSeconds(this.INVITATION_TTL)!;
  }

  get loginRateLimitWindowSeconds(): number {
    return parseDurationSeconds(this.LOGIN_RATE_LIMIT_WINDOW)!;
  }

  get eventsTransport(): EventsTransport {
    return this.EVENTS_TRANSPORT ?? (this.REDIS_URL ? 'redis-streams' : 'inline');
  }

  /** The modules a worker narrowed by WORKER_MODULES runs, as written; undefined: every module. */
  get workerModules(): string[] | undefined {
    return this.WORKER_MODULES?.split(',').map((name) => name.trim());
  }

  get eventsOutboxRetentionSeconds(): number {
    return parseDurationSeconds(this.EVENTS_OUTBOX_RETENTION)!;
  }

  get webhookRetryScheduleMs(): number[] {
    return this.WEBHOOK_RETRY_SCHEDULE.split(',').map((entry) => (parseDurationSeconds(entry.trim()) ?? 0) * 1000);
  }

  get webhookHttpHosts(): string[] {
    return this.WEBHOOK_HTTP_HOSTS.split(',')
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean);
  }

  /** The JWT key; always set once loadConfig has returned. */
  get jwtSecret(): string {
    return this.JWT_SECRET!;
  }

  /** Former JWT keys: they verify access tokens, never sign. */
  get jwtPreviousSecrets(): string[] {
    return previousJwtSecrets(this);
  }

  /** The data-encryption keys, the sealing one first; always set once loadConfig has returned. */
  get dataEncryptionKeys(): DataKey[] {
    return parseDataKeys(this.DATA_ENCRYPTION_KEYS!);
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** Things worth a warning once a logger exists (a generated development secret, say). */
  warnings: string[];
}

/** Reads, coerces and validates every variable of every group; throws one ConfigError listing every problem. */
export function loadConfig(env: Environment = process.env): LoadedConfig {
  const problems: string[] = [];
  const groups = CONFIG_GROUPS.map((group) => readGroup(group, env, problems));
  problems.push(...groups.flatMap(validationProblems));
  const config = new Config();
  Object.assign(config, ...groups);

  const warnings: string[] = [];
  checkJwtSecret(config, problems, warnings);
  checkPreviousJwtSecrets(config, problems);
  checkDataEncryptionKeys(config, problems, warnings);
  checkHttp(config, problems);
  checkMail(config, problems, warnings);
  checkEvents(config, problems, warnings);
  checkRole(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, warnings };
}
