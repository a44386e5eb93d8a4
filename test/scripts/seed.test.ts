import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { scriptRunner } from '../support/child-process';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';

const seeder = (env: Record<string, string>) => scriptRunner('scripts/seed.ts', { PASSWORD_HASH_COST: '10', ...env });

describe('npm run db:seed', () => {
  let database: TestDatabase;
  let dir: string | undefined;
  let seed: ReturnType<typeof seeder>;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = usingPostgres ? undefined : mkdtempSync(join(tmpdir(), 'gw-seed-'));
    seed = seeder(dir ? { DATABASE_EMBEDDED_PATH: dir } : database.env);
  });

  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the demo organization and prints its logins, then refuses to run again without --force', async () => {
    const first = await seed();
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('alice@example.com');
    expect(first.stdout).toContain('groundwork-demo');

    const second = await seed();
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('--force');

    const forced = await seed('--force');
    expect(forced.code).toBe(0);
  }, 240_000); // three script runs: seconds idle, minutes on a loaded machine
});

(usingPostgres ? describe : describe.skip)('npm run db:seed -- --scale large, on PostgreSQL', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function snapshot(): Promise<{ counts: number[]; hash: string }> {
    const client = new Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    try {
      const counts = await client.query(
        `SELECT (SELECT count(*) FROM organizations)::int AS organizations, (SELECT count(*) FROM users)::int AS users,
                (SELECT count(*) FROM projects)::int AS projects, (SELECT count(*) FROM tasks)::int AS tasks,
                (SELECT count(*) FROM comments)::int AS comments`,
      );
      const hash = await client.query(
        `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS hash
           FROM (SELECT id, project_id, assignee_id, title, status, priority, due_date, created_at FROM tasks) t`,
      );
      return { counts: Object.values(counts.rows[0] as Record<string, number>), hash: hash.rows[0].hash as string };
    } finally {
      await client.end();
    }
  }

  it('creates the same 10 organizations, 1,000 users, 500 projects, 50,000 tasks and 100,000 comments every run', async () => {
    const seed = seeder(database.env);
    expect((await seed('--scale', 'large')).code).toBe(0);
    const first = await snapshot();
    expect(first.counts).toEqual([10, 1000, 500, 50_000, 100_000]);

    expect((await seed('--scale', 'large', '--force')).code).toBe(0);
    expect(await snapshot()).toEqual(first);
  }, 360_000); // two large seeds: about 10 s idle, minutes on a loaded machine
});
