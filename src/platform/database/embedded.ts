import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  const db = await PGlite.create(dataDir);
  const socketDirectory = mkdtempSync(join(tmpdir(), 'groundwork-pglite-'));
  // The app's pool holds one connection; a spare slot lets a replacement connect while a broken one is being closed.
  const server = new PGLiteSocketServer({ db, path: join(socketDirectory, `.s.PGSQL.${SOCKET_PORT}`), maxConnections: 2 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    rmSync(socketDirectory, { recursive: true, force: true });
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
    },
  };
}
