import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { entities, migrations } from '../../src/modules';
import { createDataSource, migrationsKey } from '../../src/platform/database/data-source';
import { runMigrations } from '../../src/platform/database/migrate';
import { createLogger } from '../../src/platform/logging/logger';
import { MemoryTransport } from './memory-transport';

/** A database of the test's own: a fresh PostgreSQL database when TEST_DATABASE_URL is set, else in-memory PGlite. */
export interface TestDatabase {
  /** Environment for loadConfig: DATABASE_URL or DATABASE_EMBEDDED_PATH. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

/**
 * `migrated` (the default): the database starts with every migration applied, copied from a template database
 * (PGlite's in-memory clusters start migrated too, from a saved cluster). `migrated: false`: an empty database, for
 * tests of migrating itself.
 */
/** In-memory PGlite whatever TEST_DATABASE_URL says: for the files marked @embedded-only. */
export function embeddedDatabase(): TestDatabase {
  return { env: { DATABASE_EMBEDDED_PATH: 'memory://' }, drop: async () => undefined };
}

export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return embeddedDatabase();

  const name = `gw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const template = options.migrated === false ? undefined : await migratedTemplate(adminUrl);
  await withAdmin(adminUrl, async (client) => {
    try {
      await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
    } catch (error) {
      // Pruned by a run of other migrations meanwhile: an empty database, which the app migrates.
      if (!template || (error as { code?: string }).code !== '3D000') throw error;
      migratedTemplateName = undefined;
      await client.query(`CREATE DATABASE "${name}"`);
    }
  });
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

const TEMPLATE_PREFIX = 'gw_migrated_';

/** The migrated template's name, found or built once per test file. */
let migratedTemplateName: Promise<string> | undefined;

/**
 * A database with every migration applied, named by the migrations' key and the time it was built
 * (`gw_migrated_<key>_<unix seconds>`), built by the first test process that needs it: migrating took the largest
 * part of a test app's start on PostgreSQL. Others left by other migrations are dropped after a day.
 */
function migratedTemplate(adminUrl: string): Promise<string> {
  migratedTemplateName ??= withAdmin(adminUrl, async (client) => {
    const prefix = `${TEMPLATE_PREFIX}${migrationsKey(migrations)}_`;
    const existing = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname DESC LIMIT 1`,
      [prefix],
    );
    if (existing.rows[0]) return existing.rows[0].datname;

    const building = `gw_building_${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(4).toString('hex')}`;
    await client.query(`CREATE DATABASE "${building}"`);
    try {
      const url = new URL(adminUrl);
      url.pathname = `/${building}`;
      const dataSource = await createDataSource({
        url: url.toString(),
        embeddedPath: 'memory://',
        poolMax: 1,
        slowQueryMs: 60_000,
        logger: createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
        entities,
        migrations,
      });
      await dataSource.initialize();
      try {
        await runMigrations(dataSource);
      } finally {
        await dataSource.destroy();
      }
    } catch (error) {
      await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      throw error;
    }
    const name = `${prefix}${Math.floor(Date.now() / 1000)}`;
    try {
      await client.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    } catch (error) {
      // Another process built the same one in the same second: use it.
      await client.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
    await pruneTemplates(client, prefix);
    return name;
  });
  return migratedTemplateName;
}

/** Drops the templates of other migrations, and builds a crash left behind, once a day old. */
async function pruneTemplates(client: Client, keepPrefix: string): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_database
      WHERE (starts_with(datname, $1) OR starts_with(datname, 'gw_building_')) AND NOT starts_with(datname, $2)`,
    [TEMPLATE_PREFIX, keepPrefix],
  );
  const dayAgo = Date.now() / 1000 - 24 * 60 * 60;
  for (const { datname } of rows) {
    const builtAt = Number(/_(\d{10})(?:_|$)/.exec(datname)?.[1]);
    if (builtAt < dayAgo) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}
