import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEVELOPMENT_JWT_SECRET_FILE } from '../src/config/auth.config';
import { postQuery, spawnApp, type AppProcess } from './support/child-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const root = resolve(__dirname, '..');

describe('npm run dev without JWT_SECRET', () => {
  let dir: string;
  let database: TestDatabase;
  const running: AppProcess[] = [];

  beforeAll(async () => {
    // A directory of its own, as a fresh checkout: ./.data/ (the secret, the embedded database) is created in it.
    dir = mkdtempSync(join(tmpdir(), 'gw-dev-secret-'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const app of running) if (app.child.exitCode === null) app.child.kill('SIGKILL');
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `npm run dev` in the directory: development, no JWT_SECRET; PGlite in ./.data/pglite unless the suite runs on PostgreSQL. */
  async function start(): Promise<{ app: AppProcess; url: string }> {
    const env = database.env.DATABASE_URL ? database.env : {};
    const app = spawnApp(
      {
        SWC_NODE_PROJECT: join(root, 'tsconfig.json'),
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_FORMAT: 'json',
        PASSWORD_HASH_COST: '10',
        ...env,
      },
      'src/main.ts',
      dir,
    );
    running.push(app);
    return { app, url: await app.ready };
  }

  async function stop(app: AppProcess): Promise<void> {
    app.child.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  }

  it('generates a secret once into ./.data/dev-jwt-secret (owner-only), says so without logging it, and a token from one start works on the next', async () => {
    const first = await start();
    const signedUp = await postQuery(
      first.url,
      'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }',
      {
        input: { email: 'dev@example.com', password: 'correct horse battery', name: 'Dev' },
      },
    );
    const { accessToken, user } = signedUp.data!.signUp as { accessToken: string; user: { id: string } };
    await stop(first.app);

    const file = join(dir, DEVELOPMENT_JWT_SECRET_FILE);
    const secret = readFileSync(file, 'utf8').trim();
    expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.app.output()).toContain(
      `JWT_SECRET is not set: generated a development secret into ${DEVELOPMENT_JWT_SECRET_FILE}, kept across restarts`,
    );

    const second = await start();
    expect(await postQuery(second.url, '{ me { id } }', undefined, accessToken)).toMatchObject({
      data: { me: { id: user.id } },
    });
    await stop(second.app);
    expect(second.app.output()).toContain(
      `JWT_SECRET is not set: using the development secret kept in ${DEVELOPMENT_JWT_SECRET_FILE}`,
    );
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    for (const app of [first.app, second.app]) expect(app.output()).not.toContain(secret);
  }, 180_000); // two starts of the process: seconds idle, a minute or more on a loaded machine
});
