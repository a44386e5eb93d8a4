import { createServer, type AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createTestDatabase } from './test-database';

/** A database reachable over TCP, for tests that put something (a proxy) between the app and it. */
export interface StandaloneDatabase {
  host: string;
  port: number;
  /** Builds a postgres:// URL to this database through another host and port. */
  urlVia(host: string, port: number): string;
  /** Pool size the app may use: PGlite serves one connection. */
  poolMax: number;
  stop(): Promise<void>;
}

/** The test's own PostgreSQL database when TEST_DATABASE_URL is set; otherwise PGlite served on a loopback TCP port. */
export async function startStandaloneDatabase(): Promise<StandaloneDatabase> {
  const db = await createTestDatabase();
  if (db.env.DATABASE_URL) {
    const url = new URL(db.env.DATABASE_URL);
    return {
      host: url.hostname,
      port: Number(url.port || 5432),
      urlVia: (host, port) => Object.assign(new URL(url), { hostname: host, port: String(port) }).toString(),
      poolMax: 2,
      stop: () => db.drop(),
    };
  }

  const pglite = await PGlite.create('memory://');
  const port = await freePort();
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port });
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    urlVia: (host, viaPort) => `postgres://postgres@${host}:${viaPort}/postgres`,
    poolMax: 1,
    async stop() {
      await server.stop();
      await pglite.close();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
