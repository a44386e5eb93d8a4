import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const SOCKET_PORT = 5432;
const PID_FILE = 'groundwork.pid';

/** PGlite in this process, served on a private unix socket so the ordinary pg driver can talk to it. */
export interface EmbeddedPostgres {
  /** The directory that holds the socket: pg's `host` for a unix socket. */
  socketDirectory: string;
  port: number;
  /**
   * Saves this in-memory cluster, just migrated, as the template of the next in-memory cluster started with the same
   * `migratedTemplateKey`. Does nothing for a cluster on disk or one that started from that template already.
   */
  saveMigratedTemplate(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /**
   * For an in-memory cluster: names a migrated state (a hash of the migrations). The cluster starts from the
   * template saved under that name, when there is one, with nothing left to migrate; applying the migrations
   * cost 1.7 s of CPU per start on PGlite, the largest part of a test app's start.
   */
  migratedTemplateKey?: string;
}

/** `path` is a data directory, created when missing, or `memory://` for a database that lives as long as the process. */
export async function startEmbeddedPostgres(path: string, options: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const inMemory = path.startsWith('memory://');
  const dataDir = inMemory ? path : resolve(path);
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const releaseDirectory = inMemory ? () => undefined : claimDirectory(dataDir);
  const migratedKey = inMemory ? options.migratedTemplateKey : undefined;
  let db: PGlite;
  let fromMigrated = false;
  try {
    const migrated = migratedKey ? await loadMigrated(dataDir, migratedKey) : undefined;
    fromMigrated = migrated !== undefined;
    db =
      migrated ??
      (inMemory || isNewDirectory(dataDir) ? await createCluster(dataDir, inMemory) : await PGlite.create(dataDir));
  } catch (error) {
    releaseDirectory();
    throw error;
  }
  const socketDirectory = mkdtempSync(join(tmpdir(), 'groundwork-pglite-'));
  // The app's pool holds one connection; a spare slot lets a replacement connect while a broken one is being closed.
  const server = new PGLiteSocketServer({
    db,
    path: join(socketDirectory, `.s.PGSQL.${SOCKET_PORT}`),
    maxConnections: 2,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    rmSync(socketDirectory, { recursive: true, force: true });
    releaseDirectory();
    throw error;
  }
  let stopped = false;
  return {
    socketDirectory,
    port: SOCKET_PORT,
    async saveMigratedTemplate() {
      if (!migratedKey || fromMigrated) return;
      fromMigrated = true;
      // Every page on "disk" first: the dump is of the files, and loading it must need no recovery.
      await db.exec('CHECKPOINT');
      const dump = new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
      await writeAtomically(migratedTemplatePath(migratedKey), dump);
      migratedBlobs.set(migratedKey, Promise.resolve(new TemplateBlob(dump)));
      pruneMigratedTemplates(migratedKey);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
      rmSync(socketDirectory, { recursive: true, force: true });
      releaseDirectory();
    },
  };
}

/** A pristine cluster, dumped after the first initdb on this machine and PGlite build: loading it skips initdb. */
export function templatePath(): string {
  const build = statSync(require.resolve('@electric-sql/pglite'));
  return join(tmpdir(), `groundwork-pglite-template-${build.size}-${Math.round(build.mtimeMs)}.tar`);
}

/**
 * An in-memory database keeps its pages in memory already, so PostgreSQL's own
 * page cache need not be large: 16 MB instead of the default 128 MB, which
 * PGlite zeroes at every start (measured here: 0.35 s of a 0.85 s start).
 */
const IN_MEMORY_SETTINGS = ['-c', 'shared_buffers=16MB'];

/**
 * A Blob that hands PGlite its bytes with one copy: Node's Blob#arrayBuffer
 * reads the 40 MB template in chunks and joins them (0.3 s per start here).
 * PGlite's loadDataDir reads a Blob only through arrayBuffer() (and its
 * type, empty: a plain tar), so the native Blob holds nothing: made from the
 * bytes, it copied all 40 MB once more (5% of the CPU of an API test file,
 * whose modules, this cache among them, jest loads afresh per file).
 */
class TemplateBlob extends Blob {
  constructor(private readonly contents: Uint8Array) {
    super([]);
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return this.contents.slice().buffer;
  }
}

/** The template, read once per process: a test process starts many in-memory databases from it. */
let templateBlob: Promise<Blob | undefined> | undefined;

/** The migrated templates, by key, each read once per process. */
const migratedBlobs = new Map<string, Promise<Blob | undefined>>();

const MIGRATED_PREFIX = 'groundwork-pglite-migrated-';

function migratedTemplatePath(key: string): string {
  return templatePath().replace(/groundwork-pglite-template-(.*)\.tar$/, `${MIGRATED_PREFIX}$1-${key}.tar`);
}

/** An in-memory cluster from the migrated template saved under `key`; undefined when there is none (or it is unreadable). */
async function loadMigrated(dataDir: string, key: string): Promise<PGlite | undefined> {
  let blob = migratedBlobs.get(key);
  if (!blob) {
    blob = readFile(migratedTemplatePath(key)).then(
      (saved) => new TemplateBlob(saved),
      () => undefined,
    );
    migratedBlobs.set(key, blob);
  }
  const saved = await blob;
  if (!saved) return undefined;
  try {
    return await PGlite.create({
      dataDir,
      loadDataDir: saved,
      startParams: [...PGlite.defaultStartParams, ...IN_MEMORY_SETTINGS],
    });
  } catch {
    // Torn or from another build: start from the pristine template and migrate; the template is saved again then.
    migratedBlobs.delete(key);
    return undefined;
  }
}

/** Migrated templates of other migration sets, a day untouched: each is 40 MB, and a change of migrations makes a new one. */
function pruneMigratedTemplates(keep: string): void {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  const keepName = basename(migratedTemplatePath(keep));
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(MIGRATED_PREFIX) || name === keepName) continue;
    const file = join(tmpdir(), name);
    try {
      if (statSync(file).mtimeMs < dayAgo) rmSync(file, { force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/** Writes beside `target`, then renames: a reader sees the old file or the whole new one. */
async function writeAtomically(target: string, contents: Uint8Array): Promise<void> {
  const partial = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, contents);
  await rename(partial, target);
}

/**
 * A new cluster: in memory (a throwaway one), or in an empty data directory.
 * initdb is most of PGlite's start-up (measured here: 3.3-4.3 s fresh,
 * 0.6 s from a dump), so the first one on a machine saves its pristine
 * cluster and later ones load it; a missing or unreadable template just
 * means a fresh initdb (an empty directory is emptied again first).
 */
async function createCluster(dataDir: string, inMemory: boolean): Promise<PGlite> {
  const template = templatePath();
  const startParams = [...PGlite.defaultStartParams, ...(inMemory ? IN_MEMORY_SETTINGS : [])];
  templateBlob ??= readFile(template).then(
    (saved) => new TemplateBlob(saved),
    () => undefined,
  );
  const saved = await templateBlob;
  if (saved) {
    try {
      const db = await PGlite.create({ dataDir, loadDataDir: saved, startParams });
      // A template saved before templates left the pid file out carries another process's: the directory is ours.
      if (!inMemory) writeFileSync(join(dataDir, PID_FILE), String(process.pid));
      return db;
    } catch {
      // A template from an interrupted write or another build: fall back to initdb and replace it.
      templateBlob = undefined;
      if (!inMemory) emptyDirectory(dataDir);
    }
  }
  const db = await PGlite.create({ dataDir, startParams });
  // The dump of a directory would carry our pid file, and every directory started from it would then name this
  // process as its owner: out while the dump is made.
  const pidFile = join(dataDir, PID_FILE);
  if (!inMemory) rmSync(pidFile, { force: true });
  let dump: Uint8Array;
  try {
    dump = new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
  } finally {
    if (!inMemory) writeFileSync(pidFile, String(process.pid));
  }
  await writeAtomically(template, dump);
  templateBlob = Promise.resolve(new TemplateBlob(dump));
  return db;
}

/** Whether a data directory holds no cluster yet (our pid file aside). */
function isNewDirectory(dataDir: string): boolean {
  return readdirSync(dataDir).every((name) => name === PID_FILE);
}

function emptyDirectory(dataDir: string): void {
  for (const name of readdirSync(dataDir))
    if (name !== PID_FILE) rmSync(join(dataDir, name), { recursive: true, force: true });
}

/**
 * PGlite corrupts a data directory two processes open at once (a second
 * `npm start`, or `db:migrate` beside a running server), so each process
 * claims it with a pid file; a file left by a process that is gone is taken over.
 */
function claimDirectory(dataDir: string): () => void {
  const pidFile = join(dataDir, PID_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(pidFile, String(process.pid), { flag: 'wx' });
      return () => rmSync(pidFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(pidFile, 'utf8'));
      if (isAlive(owner)) {
        throw new Error(
          `The embedded database ${dataDir} is in use by process ${owner}; stop it first (one process per directory)`,
          { cause: error },
        );
      }
      rmSync(pidFile, { force: true });
    }
  }
  throw new Error(`Could not claim the embedded database directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
