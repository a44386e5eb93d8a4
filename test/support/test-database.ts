import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A database of the test's own: a fresh PostgreSQL database when TEST_DATABASE_URL is set, else in-memory PGlite. */
export interface TestDatabase {
  /** Environment for loadConfig: DATABASE_URL or DATABASE_EMBEDDED_PATH. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { env: { DATABASE_EMBEDDED_PATH: 'memory://' }, drop: async () => undefined };

  const name = `gw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
