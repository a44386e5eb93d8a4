import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { problemsOf } from '../support/config';

const STRONG_SECRET = 'a'.repeat(32);
/** Production requires data keys too (test/config/keys.config.test.ts covers them). */
const DATA_ENCRYPTION_KEYS = `k1:${randomBytes(32).toString('base64')}`;

describe('loadConfig', () => {
  it('gives development defaults for an empty environment', () => {
    const { config } = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      HOST: '0.0.0.0',
      PORT: 4000,
      DATABASE_EMBEDDED_PATH: './.data/pglite',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.sandboxEnabled).toBe(true);
    expect(config.introspectionEnabled).toBe(true);
    expect(config.logFormat).toBe('pretty');
    expect(config.corsOrigins).toBe(true);
    expect(config.accessTokenTtlSeconds).toBe(15 * 60);
    expect(config.refreshTokenTtlSeconds).toBe(30 * 86400);
  });

  it('turns production defaults off: Sandbox, introspection, CORS, pretty logs', () => {
    const { config } = loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS, JWT_SECRET: STRONG_SECRET });
    expect(config.sandboxEnabled).toBe(false);
    expect(config.introspectionEnabled).toBe(false);
    expect(config.corsOrigins).toBe(false);
    expect(config.logFormat).toBe('json');
  });

  it('lets explicit settings override the environment defaults', () => {
    const { config } = loadConfig({
      NODE_ENV: 'production',
      DATA_ENCRYPTION_KEYS,
      JWT_SECRET: STRONG_SECRET,
      GRAPHQL_SANDBOX: 'true',
      GRAPHQL_INTROSPECTION: 'yes',
      CORS_ORIGINS: 'https://a.example.com, https://b.example.com',
      LOG_FORMAT: 'pretty',
    });
    expect(config.sandboxEnabled).toBe(true);
    expect(config.introspectionEnabled).toBe(true);
    expect(config.corsOrigins).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(config.logFormat).toBe('pretty');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean %s as %s', (raw, expected) => {
    expect(loadConfig({ DATABASE_MIGRATE_ON_START: raw }).config.DATABASE_MIGRATE_ON_START).toBe(expected);
  });

  it.each([
    ['900', 900],
    ['45s', 45],
    ['15m', 900],
    ['12h', 43200],
    ['30d', 2592000],
  ])('reads the duration %s as %i seconds', (raw, seconds) => {
    expect(loadConfig({ ACCESS_TOKEN_TTL: raw }).config.accessTokenTtlSeconds).toBe(seconds);
  });

  it('reads numbers', () => {
    const { config } = loadConfig({ PORT: '8080', DATABASE_POOL_MAX: '25', LOG_SLOW_QUERY_MS: '0' });
    expect(config).toMatchObject({ PORT: 8080, DATABASE_POOL_MAX: 25, LOG_SLOW_QUERY_MS: 0 });
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://localhost/db',
      GRAPHQL_SANDBOX: 'maybe',
      ACCESS_TOKEN_TTL: 'soon',
      NODE_ENV: 'staging',
    });
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'GRAPHQL_SANDBOX', 'ACCESS_TOKEN_TTL', 'NODE_ENV']) {
      expect(problems.some((problem) => problem.startsWith(name))).toBe(true);
    }
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ PORT: '70000', DATABASE_POOL_MAX: '0' })).toThrow(
      /PORT[\s\S]*DATABASE_POOL_MAX|DATABASE_POOL_MAX[\s\S]*PORT/,
    );
  });

  it('requires SMTP_URL when mail goes over SMTP', () => {
    expect(problemsOf({ MAIL_TRANSPORT: 'smtp' })).toEqual(['SMTP_URL is required when MAIL_TRANSPORT=smtp']);
    expect(loadConfig({ MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mail.example.com:587' }).config.SMTP_URL).toBe(
      'smtp://mail.example.com:587',
    );
  });

  describe('events', () => {
    it('relays inline without Redis, and through Redis Streams once REDIS_URL is set', () => {
      expect(loadConfig({}).config.eventsTransport).toBe('inline');
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2' }).config.eventsTransport).toBe('redis-streams');
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379/2', EVENTS_TRANSPORT: 'inline' }).config.eventsTransport).toBe(
        'inline',
      );
    });

    it('requires REDIS_URL for the redis-streams transport, and a redis:// URL', () => {
      expect(problemsOf({ EVENTS_TRANSPORT: 'redis-streams' })).toEqual([
        'REDIS_URL is required when EVENTS_TRANSPORT=redis-streams',
      ]);
      expect(problemsOf({ REDIS_URL: 'http://cache' })).toEqual(['REDIS_URL must be a redis:// or rediss:// URL']);
      expect(problemsOf({ EVENTS_TRANSPORT: 'kafka' })).toEqual([expect.stringContaining('EVENTS_TRANSPORT')]);
    });

    it('warns when a handler may outlive the take-over delay', () => {
      const { warnings } = loadConfig({ EVENTS_HANDLER_TIMEOUT_MS: '60000', EVENTS_CLAIM_IDLE_MS: '60000' });
      expect(warnings).toContainEqual(
        expect.stringContaining('EVENTS_HANDLER_TIMEOUT_MS is not below EVENTS_CLAIM_IDLE_MS'),
      );
    });

    it('reads the outbox retention as a duration', () => {
      expect(loadConfig({ EVENTS_OUTBOX_RETENTION: '36h' }).config.eventsOutboxRetentionSeconds).toBe(36 * 3600);
      expect(problemsOf({ EVENTS_OUTBOX_RETENTION: 'a while' })).toEqual([
        expect.stringContaining('EVENTS_OUTBOX_RETENTION'),
      ]);
    });
  });

  it('warns that mailed unsubscribe links cannot work when production mail points them at localhost', () => {
    const env = {
      NODE_ENV: 'production',
      DATA_ENCRYPTION_KEYS,
      JWT_SECRET: STRONG_SECRET,
      MAIL_TRANSPORT: 'smtp',
      APP_URL: 'https://app.example.com',
    };
    expect(loadConfig({ ...env, SMTP_URL: 'smtp://mail:25' }).warnings).toEqual([
      expect.stringContaining('PUBLIC_API_URL points at localhost in production'),
    ]);
    expect(
      loadConfig({ ...env, SMTP_URL: 'smtp://mail:25', PUBLIC_API_URL: 'https://api.example.com' }).warnings,
    ).toEqual([]);
    expect(problemsOf({ ...env, SMTP_URL: 'smtp://mail:25', PUBLIC_API_URL: 'ftp://api' })).toEqual([
      expect.stringContaining('PUBLIC_API_URL must be an http(s) URL'),
    ]);
  });

  it('warns that production mail on the log transport is never delivered', () => {
    expect(loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS, JWT_SECRET: STRONG_SECRET }).warnings).toEqual([
      expect.stringContaining('MAIL_TRANSPORT=log in production'),
    ]);
  });

  describe('<NAME>_FILE', () => {
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    });

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads a secret from the named file, trimmed', () => {
      const file = join(dir, 'jwt');
      writeFileSync(file, `${'s'.repeat(40)}\n`);
      const { config } = loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS, JWT_SECRET_FILE: file });
      expect(config.jwtSecret).toBe('s'.repeat(40));
    });

    it('works for any variable, not only secrets', () => {
      const file = join(dir, 'port');
      writeFileSync(file, '5050');
      expect(loadConfig({ PORT_FILE: file }).config.PORT).toBe(5050);
    });

    it('reports a file that cannot be read', () => {
      expect(problemsOf({ JWT_SECRET_FILE: join(dir, 'missing') })).toEqual([
        expect.stringMatching(/^JWT_SECRET_FILE cannot be read \(ENOENT/),
      ]);
    });

    it('refuses a variable set both directly and by file', () => {
      const file = join(dir, 'both');
      writeFileSync(file, STRONG_SECRET);
      expect(problemsOf({ JWT_SECRET: STRONG_SECRET, JWT_SECRET_FILE: file })).toEqual([
        'JWT_SECRET and JWT_SECRET_FILE are both set; set only one',
      ]);
    });
  });

  describe('JWT_SECRET', () => {
    it('is required in production', () => {
      expect(problemsOf({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS })).toEqual([
        'JWT_SECRET is required in production (or JWT_SECRET_FILE)',
      ]);
    });

    it('must be at least 32 bytes in production', () => {
      expect(problemsOf({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS, JWT_SECRET: 'a'.repeat(31) })).toEqual([
        'JWT_SECRET must be at least 32 bytes in production',
      ]);
      expect(
        loadConfig({ NODE_ENV: 'production', DATA_ENCRYPTION_KEYS, JWT_SECRET: STRONG_SECRET }).config.jwtSecret,
      ).toBe(STRONG_SECRET);
    });

    it('is generated per process with a warning in test when missing (development keeps one: keys.config.test.ts)', () => {
      const first = loadConfig({ NODE_ENV: 'test', DATA_ENCRYPTION_KEYS });
      const second = loadConfig({ NODE_ENV: 'test', DATA_ENCRYPTION_KEYS });
      expect(Buffer.byteLength(first.config.jwtSecret)).toBeGreaterThanOrEqual(32);
      expect(first.config.jwtSecret).not.toBe(second.config.jwtSecret);
      expect(first.warnings).toEqual([expect.stringContaining('JWT_SECRET is not set')]);
    });

    it('draws a warning in development when short', () => {
      const { config, warnings } = loadConfig({ JWT_SECRET: 'short' });
      expect(config.jwtSecret).toBe('short');
      expect(warnings).toEqual([expect.stringContaining('shorter than 32 bytes')]);
    });
  });
});
