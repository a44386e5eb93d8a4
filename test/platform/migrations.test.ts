import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { migrations } from '../../src/modules';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';
import { inheritedEnv } from '../support/child-process';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');

describe('npm run db:migrate', () => {
  let database: TestDatabase;
  let embeddedDir: string | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
    embeddedDir = usingPostgres ? undefined : mkdtempSync(join(tmpdir(), 'gw-migrate-'));
    env = {
      ...inheritedEnv(),
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      ...(embeddedDir ? { DATABASE_EMBEDDED_PATH: embeddedDir } : database.env),
    };
  });

  afterAll(async () => {
    await database?.drop();
    if (embeddedDir) rmSync(embeddedDir, { recursive: true, force: true });
  });

  const migrate = (...args: string[]) =>
    run(process.execPath, ['-r', '@swc-node/register', 'scripts/migrate.ts', ...args], { cwd: root, env });

  it('applies pending migrations, then finds none; --revert undoes the last, which then applies again', async () => {
    const first = await migrate();
    expect(first.stdout).toContain(`applied ${migrations.length} migration(s)`);

    const second = await migrate();
    expect(second.stdout).toContain('no pending migrations');

    const revert = await migrate('--revert');
    expect(revert.stdout).toContain('reverted the last migration');
    const again = await migrate();
    expect(again.stdout).toContain(`applied 1 migration(s)`);
    expect(again.stdout).toContain(migrations.at(-1)!.name);
  }, 240_000); // four script runs, each starting the database: seconds idle, minutes on a loaded machine
});

(usingPostgres ? describe : describe.skip)('migrating at start on PostgreSQL', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await database?.drop();
  });

  it('runs each migration once when several instances start together', async () => {
    apps.push(...(await Promise.all([1, 2, 3].map(() => startTestApp({}, database)))));

    const client = new Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string; n: number }>(
        'SELECT name, count(*)::int AS n FROM migrations GROUP BY name',
      );
      // Both sides sorted by the same comparison: the database's collation and localeCompare disagree on case.
      const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      expect(rows.sort(byName)).toEqual(migrations.map(({ name }) => ({ name, n: 1 })).sort(byName));
    } finally {
      await client.end();
    }
  });
});
