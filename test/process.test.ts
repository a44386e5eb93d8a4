// @embedded-only: its databases are embedded PGlite of its own choosing, whatever TEST_DATABASE_URL says (CI runs it once, on the PGlite pass: jest.config.js).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postQuery, spawnApp, type AppProcess } from './support/child-process';

const running: AppProcess[] = [];

function start(env: Record<string, string>): AppProcess {
  const app = spawnApp(env);
  running.push(app);
  return app;
}

afterEach(() => {
  for (const app of running.splice(0)) if (app.child.exitCode === null) app.child.kill('SIGKILL');
});

const serving = (extra: Record<string, string> = {}) => ({
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_FORMAT: 'json',
  DATABASE_EMBEDDED_PATH: 'memory://',
  PASSWORD_HASH_COST: '10',
  JWT_SECRET: randomBytes(32).toString('hex'),
  ...extra,
});

describe('the process', () => {
  it('exits 1 listing every bad variable, without a stack trace', async () => {
    const app = start({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect((await app.exited).code).toBe(1);
    expect(app.output()).toContain('Invalid configuration');
    expect(app.output()).toMatch(/PORT/);
    expect(app.output()).toMatch(/LOG_LEVEL/);
    expect(app.output()).not.toMatch(/^\s+at /m);
  });

  it('refuses to start in production without JWT_SECRET', async () => {
    const app = start({ NODE_ENV: 'production' });
    expect((await app.exited).code).toBe(1);
    expect(app.output()).toContain('JWT_SECRET is required in production');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serves, then on %s drains, logs "stopped" and exits 0',
    async (signal) => {
      const app = start(serving());
      const url = await app.ready;
      expect(await postQuery(url, '{ me { id } }')).toMatchObject({ data: { me: null } });

      app.child.kill(signal);
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.output()).toMatch(/"message":"stopped"/);
      await expect(fetch(url)).rejects.toThrow();
    },
    60_000,
  );

  it('refuses a second process on the same embedded directory, and takes over a pid file left by a dead one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-claim-'));
    try {
      const first = start(serving({ DATABASE_EMBEDDED_PATH: dir }));
      await first.ready;
      const second = start(serving({ DATABASE_EMBEDDED_PATH: dir }));
      expect((await second.exited).code).toBe(1);
      expect(second.output()).toContain(`is in use by process ${first.child.pid}`);
      first.child.kill('SIGKILL');
      await first.exited;

      // SIGKILL left the pid file behind; its process is gone, so the next start takes the directory over.
      const third = start(serving({ DATABASE_EMBEDDED_PATH: dir }));
      expect(await postQuery(await third.ready, '{ me { id } }')).toMatchObject({ data: { me: null } });
      third.child.kill('SIGTERM');
      expect((await third.exited).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000); // child processes started one after another: seconds idle, minutes on a loaded machine

  it('keeps its data in the embedded directory across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-persist-'));
    const env = serving({ DATABASE_EMBEDDED_PATH: dir });
    const credentials = { email: 'persisted@example.com', password: 'survives restarts' };
    try {
      const first = start(env);
      const signUp = await postQuery(
        await first.ready,
        'mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }',
        {
          i: { ...credentials, name: 'Persisted' },
        },
      );
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);

      const second = start(env);
      const logIn = await postQuery(
        await second.ready,
        'mutation($i: LogInInput!) { logIn(input: $i) { user { id } } }',
        {
          i: credentials,
        },
      );
      expect(logIn.data?.logIn.user.id).toBe(signUp.data?.signUp.user.id);
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000); // child processes started one after another: seconds idle, minutes on a loaded machine
});
