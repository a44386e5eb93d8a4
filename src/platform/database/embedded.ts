import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const SOCKET_PORT = 5432;

/** PGlite in this process, served on a private unix socket so the ordinary pg driver can talk to it. */
export interface EmbeddedPostgres {
  /** The directory that holds the socket: pg's `host` for a unix socket. */
  socketDirectory: string;
  port: number;
  stop(): Promise<void>;
}

/** `path` is a data directory, created when missing, or `memory://` for a database that lives as long as the process. */
export async function startEmbeddedPostgres(path: string): Promise<EmbeddedPostgres> {
  const inMemory = path.startsWith('memory://');
  const dataDir = inMemory ? path : resolve(path);
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const releaseDirectory = inMemory ? () => undefined : claimDirectory(dataDir);
  let db: PGlite;
  try {
    db = inMemory ? await createInMemory() : await PGlite.create(dataDir);
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
function templatePath(): string {
  const build = statSync(require.resolve('@electric-sql/pglite'));
  return join(tmpdir(), `groundwork-pglite-template-${build.size}-${Math.round(build.mtimeMs)}.tar`);
}

/**
 * A throwaway in-memory database. initdb is most of PGlite's start-up (measured
 * here: 3.3-4.3 s fresh, 1.3 s from a dump), so the first one on a machine
 * saves its pristine cluster and later ones load it; a missing or unreadable
 * template just means a fresh initdb.
 */
async function createInMemory(): Promise<PGlite> {
  const template = templatePath();
  const saved = await readFile(template).catch(() => undefined);
  if (saved) {
    try {
      return await PGlite.create({ dataDir: 'memory://', loadDataDir: new Blob([saved]) });
    } catch {
      // A template from an interrupted write or another build: fall back to initdb and replace it.
    }
  }
  const db = await PGlite.create('memory://');
  const dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
  const partial = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, dump);
  await rename(partial, template);
  return db;
}

/**
 * PGlite corrupts a data directory two processes open at once (a second
 * `npm start`, or `db:migrate` beside a running server), so each process
 * claims it with a pid file; a file left by a process that is gone is taken over.
 */
function claimDirectory(dataDir: string): () => void {
  const pidFile = join(dataDir, 'groundwork.pid');
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
