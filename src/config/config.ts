import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  getMetadataStorage,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { parseDurationSeconds } from './duration';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogFormat = 'json' | 'pretty';
export type MailTransport = 'log' | 'smtp' | 'capture';
export type EventsTransport = 'inline' | 'redis-streams';

const DURATION = /^\d+\s*[smhd]?$/;
const DURATION_MESSAGE = '$property must be a duration such as 900, 45s, 15m, 12h or 30d';
const MIN_PRODUCTION_SECRET_BYTES = 32;

/**
 * Every setting of the process, read from the environment once at boot.
 * Each variable may instead be read from a file named by `<NAME>_FILE`
 * (Docker and Kubernetes secrets). `.env.example` documents each one.
 */
export class Config {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: NodeEnv = 'development';

  @IsString()
  HOST = '0.0.0.0';

  @IsInt() @Min(0) @Max(65535)
  PORT = 4000;

  /** Absent: the embedded PGlite database under DATABASE_EMBEDDED_PATH. */
  @IsOptional() @Matches(/^postgres(ql)?:\/\/.+/, { message: '$property must be a postgres:// URL' })
  DATABASE_URL: string | undefined = undefined;

  /** A directory for the embedded database's files, or memory:// for a throwaway one. */
  @IsString()
  DATABASE_EMBEDDED_PATH = './.data/pglite';

  @IsInt() @Min(1) @Max(1000)
  DATABASE_POOL_MAX = 10;

  @IsBoolean()
  DATABASE_MIGRATE_ON_START = true;

  @IsIn(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'])
  LOG_LEVEL = 'info';

  /** Default: pretty in development, json elsewhere. */
  @IsOptional() @IsIn(['json', 'pretty'])
  LOG_FORMAT: LogFormat | undefined = undefined;

  @IsInt() @Min(0)
  LOG_SLOW_QUERY_MS = 200;

  /** HS256 key for access tokens; at least 32 bytes in production. */
  @IsOptional() @IsString() @MinLength(1)
  JWT_SECRET: string | undefined = undefined;

  @IsString() @MinLength(1)
  JWT_ISSUER = 'groundwork';

  @IsString() @MinLength(1)
  JWT_AUDIENCE = 'groundwork-api';

  @Matches(DURATION, { message: DURATION_MESSAGE })
  ACCESS_TOKEN_TTL = '15m';

  @Matches(DURATION, { message: DURATION_MESSAGE })
  REFRESH_TOKEN_TTL = '30d';

  /** A refresh token presented again this soon after it was spent (a double-clicking client) gets a new pair instead of revoking its family; 0 turns the grace off. */
  @IsInt() @Min(0) @Max(300)
  REFRESH_REUSE_GRACE_SECONDS = 10;

  /** log2 of scrypt's cost N; 17 is OWASP's recommendation (N=2^17, r=8, p=1). */
  @IsInt() @Min(10) @Max(20)
  PASSWORD_HASH_COST = 17;

  /** Failed logIn attempts allowed per email within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt() @Min(1)
  LOGIN_RATE_LIMIT_PER_EMAIL = 10;

  /** logIn attempts allowed per client IP within LOGIN_RATE_LIMIT_WINDOW. */
  @IsInt() @Min(1)
  LOGIN_RATE_LIMIT_PER_IP = 100;

  @Matches(DURATION, { message: DURATION_MESSAGE })
  LOGIN_RATE_LIMIT_WINDOW = '15m';

  /** Default: on in development, off in production. */
  @IsOptional() @IsBoolean()
  GRAPHQL_SANDBOX: boolean | undefined = undefined;

  /** Default: on in development, off in production. */
  @IsOptional() @IsBoolean()
  GRAPHQL_INTROSPECTION: boolean | undefined = undefined;

  /** Comma-separated origins allowed by CORS; "*" for any. Default: any in development, none elsewhere. */
  @IsOptional() @IsString()
  CORS_ORIGINS: string | undefined = undefined;

  /** Query limits, checked before any resolver runs (QUERY_TOO_COMPLEX naming the limit): depth of nested fields. */
  @IsInt() @Min(1)
  GRAPHQL_MAX_DEPTH = 15;

  /** Aliased fields per operation (__typename is free). */
  @IsInt() @Min(0)
  GRAPHQL_MAX_ALIASES = 15;

  @IsInt() @Min(0)
  GRAPHQL_MAX_DIRECTIVES = 50;

  /** Lexical tokens per document: the parser stops there. */
  @IsInt() @Min(10)
  GRAPHQL_MAX_TOKENS = 2000;

  /** Nodes a query could touch: a connection multiplies what it selects by `first`. */
  @IsInt() @Min(1)
  GRAPHQL_MAX_COST = 50000;

  /** Cost points (see GRAPHQL_MAX_COST) a signed-in user may spend per minute; past it, RATE_LIMITED. */
  @IsInt() @Min(1)
  API_BUDGET_PER_USER_PER_MINUTE = 200000;

  /** Cost points one client address may spend per minute, signed in or not. */
  @IsInt() @Min(1)
  API_BUDGET_PER_IP_PER_MINUTE = 500000;

  /** Request bodies above this many bytes get 413. */
  @IsInt() @Min(1024)
  HTTP_BODY_LIMIT_BYTES = 1048576;

  /** Trust X-Forwarded-For from a proxy in front (true, or a comma-separated list of proxy addresses). */
  @IsString()
  TRUST_PROXY = 'false';

  /** Where the frontend lives: links in mail (invitations) point here. */
  @Matches(/^https?:\/\/.+/, { message: '$property must be an http(s) URL' })
  APP_URL = 'http://localhost:3000';

  /** log (the message goes to the log), smtp (SMTP_URL), or capture (kept in memory, for tests). */
  @IsIn(['log', 'smtp', 'capture'])
  MAIL_TRANSPORT: MailTransport = 'log';

  /** smtp://user:pass@host:587 or smtps://...; required when MAIL_TRANSPORT=smtp. */
  @IsOptional() @Matches(/^smtps?:\/\/.+/, { message: '$property must be an smtp:// or smtps:// URL' })
  SMTP_URL: string | undefined = undefined;

  @IsString() @MinLength(3)
  MAIL_FROM = 'groundwork <no-reply@localhost>';

  @Matches(DURATION, { message: DURATION_MESSAGE })
  INVITATION_TTL = '7d';

  /** redis://host:6379/0; set, domain events go through Redis Streams (and, later, rate limits through Redis). */
  @IsOptional() @Matches(/^rediss?:\/\/.+/, { message: '$property must be a redis:// or rediss:// URL' })
  REDIS_URL: string | undefined = undefined;

  /** Prefix of every Redis key this deployment uses, so several deployments (or test runs) can share one Redis. */
  @IsString() @MinLength(1)
  REDIS_KEY_PREFIX = 'groundwork:';

  /** inline (in-process, from the outbox) or redis-streams. Default: redis-streams when REDIS_URL is set. */
  @IsOptional() @IsIn(['inline', 'redis-streams'])
  EVENTS_TRANSPORT: EventsTransport | undefined = undefined;

  /** How often the relay looks at the outbox when no local commit woke it. */
  @IsInt() @Min(10)
  EVENTS_POLL_INTERVAL_MS = 1000;

  /** Attempts per (consumer, event) before the event is dead-lettered. */
  @IsInt() @Min(1) @Max(100)
  EVENTS_MAX_ATTEMPTS = 10;

  /** The first retry's delay; each next one doubles, up to EVENTS_CLAIM_IDLE_MS. */
  @IsInt() @Min(1)
  EVENTS_RETRY_BASE_MS = 1000;

  /** A handler still running after this fails (and is retried). */
  @IsInt() @Min(1)
  EVENTS_HANDLER_TIMEOUT_MS = 30000;

  /** Another instance takes over after this long the work of one that stopped answering (Redis pending entries, the inline relay's lease); keep it above the handler timeout. */
  @IsInt() @Min(100)
  EVENTS_CLAIM_IDLE_MS = 60000;

  /** Relayed events stay in the outbox this long (the audit log is the lasting record). */
  @Matches(DURATION, { message: DURATION_MESSAGE })
  EVENTS_OUTBOX_RETENTION = '7d';

  /** How long a webhook receiver has to answer one delivery. */
  @IsInt() @Min(100)
  WEBHOOK_TIMEOUT_MS = 10000;

  /** Attempts per delivery before it is FAILED. */
  @IsInt() @Min(1) @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 10;

  /** Delays before the 2nd, 3rd, ... attempt (comma-separated durations, ±10% jitter); the last repeats. */
  @Matches(/^\d+\s*[smhd]?(\s*,\s*\d+\s*[smhd]?)*$/, { message: '$property must be comma-separated durations such as 5s,5m,30m,2h' })
  WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,14h,20h,24h';

  /** Let webhooks reach private, loopback and link-local addresses (local development and tests only). */
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_NETWORKS = false;

  /** Hosts a webhook may reach over plain http (comma-separated, e.g. localhost); every other URL must be https. */
  @IsString()
  WEBHOOK_HTTP_HOSTS = '';

  /** How often due deliveries are looked for when nothing woke the sender. */
  @IsInt() @Min(10)
  WEBHOOK_POLL_INTERVAL_MS = 1000;

  /** Deliveries in flight at once per instance. */
  @IsInt() @Min(1) @Max(256)
  WEBHOOK_CONCURRENCY = 8;

  /** Set, GET /metrics is served on this port (on HOST) instead of the public one. 0 picks a free port. */
  @IsOptional() @IsInt() @Min(0) @Max(65535)
  METRICS_PORT: number | undefined = undefined;

  @IsInt() @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10000;

  @IsInt() @Min(1)
  READINESS_TIMEOUT_MS = 2000;

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
    const origins = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
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

  get eventsOutboxRetentionSeconds(): number {
    return parseDurationSeconds(this.EVENTS_OUTBOX_RETENTION)!;
  }

  get webhookRetryScheduleMs(): number[] {
    return this.WEBHOOK_RETRY_SCHEDULE.split(',').map((entry) => (parseDurationSeconds(entry.trim()) ?? 0) * 1000);
  }

  get webhookHttpHosts(): string[] {
    return this.WEBHOOK_HTTP_HOSTS.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean);
  }

  /** The JWT key; always set once loadConfig has returned. */
  get jwtSecret(): string {
    return this.JWT_SECRET!;
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

type Environment = Record<string, string | undefined>;

/** Reads, coerces and validates every variable; throws one ConfigError listing every problem. */
export function loadConfig(env: Environment = process.env): LoadedConfig {
  const config = new Config();
  const problems: string[] = [];
  const fields = config as unknown as Record<string, unknown>;
  const kinds = declaredKinds();

  for (const name of Object.keys(config)) {
    const raw = readVariable(env, name, problems);
    if (raw === undefined) continue;
    fields[name] = coerce(raw, kinds.get(name));
  }

  for (const error of validateSync(config, { forbidUnknownValues: true })) {
    problems.push(...Object.values(error.constraints ?? {}));
  }

  const warnings: string[] = [];
  checkJwtSecret(config, problems, warnings);
  if (config.MAIL_TRANSPORT === 'smtp' && !config.SMTP_URL) problems.push('SMTP_URL is required when MAIL_TRANSPORT=smtp');
  if (config.EVENTS_TRANSPORT === 'redis-streams' && !config.REDIS_URL) problems.push('REDIS_URL is required when EVENTS_TRANSPORT=redis-streams');
  if (config.EVENTS_HANDLER_TIMEOUT_MS >= config.EVENTS_CLAIM_IDLE_MS) {
    warnings.push('EVENTS_HANDLER_TIMEOUT_MS is not below EVENTS_CLAIM_IDLE_MS: a slow handler\'s event may be taken over and run twice');
  }
  if (config.isProduction && config.MAIL_TRANSPORT === 'log') {
    warnings.push('MAIL_TRANSPORT=log in production: mail is not delivered (set MAIL_TRANSPORT=smtp and SMTP_URL)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, warnings };
}

function readVariable(env: Environment, name: string, problems: string[]): string | undefined {
  const filePath = env[`${name}_FILE`];
  if (filePath && env[name] !== undefined) {
    problems.push(`${name} and ${name}_FILE are both set; set only one`);
    return undefined;
  }
  if (!filePath) return env[name] === '' ? undefined : env[name];
  try {
    return readFileSync(filePath, 'utf8').trim();
  } catch (error) {
    problems.push(`${name}_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${filePath})`);
    return undefined;
  }
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

type Kind = 'number' | 'boolean';

/** The type each variable converts to, read off its validation decorators (@IsInt, @IsBoolean), so it is declared once. */
function declaredKinds(): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  for (const rule of getMetadataStorage().getTargetValidationMetadatas(Config, '', true, false)) {
    if (rule.name === 'isInt') kinds.set(rule.propertyName, 'number');
    if (rule.name === 'isBoolean') kinds.set(rule.propertyName, 'boolean');
  }
  return kinds;
}

/** Turns the raw string into the declared type; a value that does not convert is left for validation to reject. */
function coerce(raw: string, kind: Kind | undefined): unknown {
  const text = raw.trim();
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : raw;
  if (kind === 'boolean') {
    const word = text.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return raw;
  }
  return raw;
}

function checkJwtSecret(config: Config, problems: string[], warnings: string[]): void {
  const secretBytes = config.JWT_SECRET === undefined ? 0 : Buffer.byteLength(config.JWT_SECRET, 'utf8');
  if (secretBytes >= MIN_PRODUCTION_SECRET_BYTES) return;
  if (config.isProduction) {
    problems.push(
      config.JWT_SECRET === undefined
        ? 'JWT_SECRET is required in production (or JWT_SECRET_FILE)'
        : `JWT_SECRET must be at least ${MIN_PRODUCTION_SECRET_BYTES} bytes in production`,
    );
    return;
  }
  if (config.JWT_SECRET === undefined) {
    config.JWT_SECRET = randomBytes(48).toString('base64url');
    warnings.push('JWT_SECRET is not set: generated a random one, so tokens will not survive a restart');
  } else {
    warnings.push(`JWT_SECRET is shorter than ${MIN_PRODUCTION_SECRET_BYTES} bytes: production would refuse it`);
  }
}
