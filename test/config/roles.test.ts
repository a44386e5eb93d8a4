// @embedded-only: its databases are embedded PGlite of its own choosing, whatever TEST_DATABASE_URL says (CI runs it once, on the PGlite pass: jest.config.js).
import { loadConfig } from '../../src/config/config';
import { modules } from '../../src/modules';
import { rolesOf } from '../../src/platform/roles';
import { spawnApp } from '../support/child-process';
import { problemsOf } from '../support/config';

/** Settings a split role accepts: a shared PostgreSQL and Redis (nothing connects to them here). */
const SHARED = { DATABASE_URL: 'postgres://app@db.internal:5432/app', REDIS_URL: 'redis://cache.internal:6379/0' };
const moduleNames = modules.map((module) => module.name);

describe('ROLE and WORKER_MODULES', () => {
  it('defaults to all: GraphQL and every module consuming, as one process always did', () => {
    const { config } = loadConfig({});
    expect(config.ROLE).toBe('all');
    const roles = rolesOf(config, moduleNames);
    expect(roles.servesApi).toBe(true);
    expect([...roles.consumingModules]).toEqual(moduleNames);
  });

  it('api serves GraphQL and consumes nothing; worker consumes every module and serves no GraphQL', () => {
    const api = rolesOf(loadConfig({ ...SHARED, ROLE: 'api' }).config, moduleNames);
    expect(api).toEqual({ servesApi: true, consumingModules: new Set() });
    const worker = rolesOf(loadConfig({ ...SHARED, ROLE: 'worker' }).config, moduleNames);
    expect(worker).toEqual({ servesApi: false, consumingModules: new Set(moduleNames) });
  });

  it('narrows a worker to the modules WORKER_MODULES names', () => {
    const { config } = loadConfig({ ...SHARED, ROLE: 'worker', WORKER_MODULES: ' webhooks , audit ' });
    expect(rolesOf(config, moduleNames).consumingModules).toEqual(new Set(['webhooks', 'audit']));
  });

  it('refuses a role it does not know', () => {
    expect(problemsOf({ ...SHARED, ROLE: 'consumer' })).toEqual([
      'ROLE must be one of the following values: api, worker, all',
    ]);
  });

  it('refuses a split role on embedded PGlite, which is one process', () => {
    for (const role of ['api', 'worker'])
      expect(problemsOf({ ROLE: role })).toEqual([
        `ROLE=${role} needs DATABASE_URL (PostgreSQL): embedded PGlite is one process per data directory, which serves and consumes together (ROLE=all)`,
      ]);
  });

  it('refuses WORKER_MODULES outside ROLE=worker, on the inline transport, or not a list of names', () => {
    expect(problemsOf({ ...SHARED, ROLE: 'api', WORKER_MODULES: 'webhooks' })).toEqual([
      'WORKER_MODULES applies only to ROLE=worker (ROLE is api)',
    ]);
    expect(problemsOf({ ...SHARED, WORKER_MODULES: 'webhooks' })).toEqual([
      'WORKER_MODULES applies only to ROLE=worker (ROLE is all)',
    ]);
    expect(problemsOf({ DATABASE_URL: SHARED.DATABASE_URL, ROLE: 'worker', WORKER_MODULES: 'webhooks' })).toEqual([
      'WORKER_MODULES needs the redis-streams transport (REDIS_URL): the inline relay is one lease holder that runs every module’s consumers',
    ]);
    expect(problemsOf({ ...SHARED, ROLE: 'worker', WORKER_MODULES: 'webhooks;audit' })).toEqual([
      'WORKER_MODULES must be comma-separated module names (e.g. webhooks,audit)',
    ]);
  });

  it('refuses, at start, a WORKER_MODULES name that no registered module has', () => {
    const { config } = loadConfig({ ...SHARED, ROLE: 'worker', WORKER_MODULES: 'webhooks,billing' });
    expect(() => rolesOf(config, moduleNames)).toThrow(
      `WORKER_MODULES names "billing", not a registered module; the modules are: ${moduleNames.join(', ')}`,
    );
  });

  describe('the process', () => {
    const start = (env: Record<string, string>) =>
      spawnApp({ NODE_ENV: 'test', LOG_LEVEL: 'error', LOG_FORMAT: 'json', PORT: '0', ...env });

    it('exits 1 with the config error for a split role on embedded PGlite', async () => {
      const app = start({ ROLE: 'worker', DATABASE_EMBEDDED_PATH: 'memory://' });
      expect(await app.exited).toEqual({ code: 1, signal: null });
      expect(app.output()).toContain('Invalid configuration:\n  - ROLE=worker needs DATABASE_URL (PostgreSQL)');
    });

    it('exits 1 with the config error for an unknown WORKER_MODULES name, before connecting to anything', async () => {
      // Nothing listens on port 1: the start must stop before it tries.
      const app = start({
        ROLE: 'worker',
        WORKER_MODULES: 'billing',
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:1/0',
      });
      expect(await app.exited).toEqual({ code: 1, signal: null });
      expect(app.output()).toContain(
        'Invalid configuration:\n  - WORKER_MODULES names "billing", not a registered module',
      );
      expect(app.output()).not.toMatch(/ECONNREFUSED|startup failed/);
    });
  });
});
