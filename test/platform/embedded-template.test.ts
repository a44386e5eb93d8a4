// @embedded-only: its databases are embedded PGlite of its own choosing, whatever TEST_DATABASE_URL says (CI runs it once, on the PGlite pass: jest.config.js).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, templatePath, type EmbeddedPostgres } from '../../src/platform/database/embedded';
import { startTestApp } from '../support/test-app';
import { embeddedDatabase } from '../support/test-database';

async function query<T>(db: EmbeddedPostgres, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ host: db.socketDirectory, port: db.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function setting(db: EmbeddedPostgres, name: string): Promise<string> {
  const [row] = await query<{ value: string }>(db, `SELECT current_setting($1) AS value`, [name]);
  return row.value;
}

/** The migrated template files saved under `key` (one, once saved). */
const migratedFiles = (key: string) =>
  readdirSync(tmpdir())
    .filter((name) => name.startsWith('groundwork-pglite-migrated-') && name.endsWith(`-${key}.tar`))
    .map((name) => join(tmpdir(), name));

describe('the embedded cluster template', () => {
  it('starts from initdb when the template is unreadable, and writes a good one in its place', async () => {
    const template = templatePath();
    writeFileSync(template, 'not a tar file');
    const db = await startEmbeddedPostgres('memory://');
    try {
      expect(await setting(db, 'server_version_num')).toMatch(/^\d+$/);
    } finally {
      await db.stop();
    }
    const written = readFileSync(template);
    expect(written.length).toBeGreaterThan(1024 * 1024);
    expect(written.subarray(257, 262).toString()).toBe('ustar');
  });

  it('gives an in-memory cluster 16 MB of shared buffers, and a new data directory a cluster of the default size that keeps its data', async () => {
    const memory = await startEmbeddedPostgres('memory://');
    try {
      expect(await setting(memory, 'shared_buffers')).toBe('16MB');
    } finally {
      await memory.stop();
    }

    const dir = mkdtempSync(join(tmpdir(), 'gw-embedded-'));
    try {
      const first = await startEmbeddedPostgres(dir);
      try {
        expect(await setting(first, 'shared_buffers')).toBe('128MB');
        const client = new Client({ host: first.socketDirectory, port: first.port, user: 'postgres' });
        await client.connect();
        await client.query('CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)');
        await client.end();
      } finally {
        await first.stop();
      }
      expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);

      const again = await startEmbeddedPostgres(dir);
      try {
        const client = new Client({ host: again.socketDirectory, port: again.port, user: 'postgres' });
        await client.connect();
        expect((await client.query('SELECT id FROM kept')).rows).toEqual([{ id: 7 }]);
        await client.end();
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a migrated in-memory cluster under its key: the next one with that key starts from it; another key, or an unreadable file, starts pristine', async () => {
    const key = randomBytes(8).toString('hex');
    const other = randomBytes(8).toString('hex');
    try {
      const first = await startEmbeddedPostgres('memory://', { migratedTemplateKey: key });
      try {
        await query(first, 'CREATE TABLE migrated (id int); INSERT INTO migrated VALUES (1)');
        await first.saveMigratedTemplate();
      } finally {
        await first.stop();
      }
      const [file] = migratedFiles(key);
      expect(readFileSync(file).subarray(257, 262).toString()).toBe('ustar');
      const savedAt = statSync(file).mtimeMs;

      const again = await startEmbeddedPostgres('memory://', { migratedTemplateKey: key });
      try {
        expect(await query(again, 'SELECT id FROM migrated')).toEqual([{ id: 1 }]);
        expect(await setting(again, 'shared_buffers')).toBe('16MB');
        // Started from the template: nothing to save again.
        await again.saveMigratedTemplate();
        expect(statSync(file).mtimeMs).toBe(savedAt);
      } finally {
        await again.stop();
      }

      const elsewhere = await startEmbeddedPostgres('memory://', { migratedTemplateKey: other });
      try {
        expect(await query(elsewhere, `SELECT to_regclass('migrated') AS t`)).toEqual([{ t: null }]);
      } finally {
        await elsewhere.stop();
      }

      // A template is read once per process: a fresh copy of the module reads the torn file.
      writeFileSync(file, 'not a tar file');
      let fresh: typeof import('../../src/platform/database/embedded') | undefined;
      jest.isolateModules(() => {
        fresh = jest.requireActual<typeof import('../../src/platform/database/embedded')>(
          '../../src/platform/database/embedded',
        );
      });
      const torn = await fresh!.startEmbeddedPostgres('memory://', { migratedTemplateKey: key });
      try {
        expect(await query(torn, `SELECT to_regclass('migrated') AS t`)).toEqual([{ t: null }]);
      } finally {
        await torn.stop();
      }
    } finally {
      for (const file of [...migratedFiles(key), ...migratedFiles(other)]) rmSync(file, { force: true });
    }
  });

  // The app's own use of it: a test app starts migrated.
  it('starts the second in-memory app with every migration applied and none to apply', async () => {
    const first = await startTestApp({}, embeddedDatabase());
    const [{ n: applied }] = (await first.app.dataSource.query(`SELECT count(*)::int AS n FROM migrations`)) as [
      { n: number },
    ];
    await first.stop();
    const second = await startTestApp({}, embeddedDatabase());
    try {
      expect(second.logs.find('migrations applied')).toEqual([]);
      const [{ n }] = (await second.app.dataSource.query(`SELECT count(*)::int AS n FROM migrations`)) as [
        { n: number },
      ];
      expect(n).toBe(applied);
      expect(n).toBe(second.app.dataSource.migrations.length);
    } finally {
      await second.stop();
    }
  });

  it('leaves the pid file out of a template made in a data directory, and a directory started from any template names its own process', async () => {
    type Embedded = typeof import('../../src/platform/database/embedded');
    /** A fresh copy of the module: it reads the template file again, as a new process would. */
    const fresh = () => {
      let module: Embedded | undefined;
      jest.isolateModules(() => {
        module = jest.requireActual<Embedded>('../../src/platform/database/embedded');
      });
      return module!;
    };
    const template = templatePath();
    const dirs = [0, 1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'gw-template-pid-')));
    try {
      // Unreadable: the first directory runs initdb and writes the template.
      writeFileSync(template, 'not a tar file');
      const first = await fresh().startEmbeddedPostgres(dirs[0]);
      await first.stop();
      expect(readFileSync(template).includes('groundwork.pid')).toBe(false);

      const second = await fresh().startEmbeddedPostgres(dirs[1]);
      try {
        expect(readFileSync(join(dirs[1], 'groundwork.pid'), 'utf8')).toBe(String(process.pid));
      } finally {
        await second.stop();
      }

      // A template saved before this fix: dumped from a directory holding a pid file of a live process (pid 1).
      const { PGlite } = jest.requireActual<typeof import('@electric-sql/pglite')>('@electric-sql/pglite');
      const old = await PGlite.create(dirs[2]);
      writeFileSync(join(dirs[2], 'groundwork.pid'), '1');
      writeFileSync(template, new Uint8Array(await (await old.dumpDataDir('none')).arrayBuffer()));
      await old.close();
      expect(readFileSync(template).includes('groundwork.pid')).toBe(true);
      const healed = await fresh().startEmbeddedPostgres(dirs[3]);
      try {
        expect(readFileSync(join(dirs[3], 'groundwork.pid'), 'utf8')).toBe(String(process.pid));
      } finally {
        await healed.stop();
      }
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      // The next start writes a clean template again.
      rmSync(template, { force: true });
    }
  });
});
