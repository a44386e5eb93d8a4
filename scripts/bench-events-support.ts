import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { databaseUrlOn, withClient } from './process-support';

/** The event benchmark's plumbing: probing, creating and dropping what a run needs, and the arithmetic on its timings. */

export const now = (): number => performance.timeOrigin + performance.now();

/** host:port of a URL, for messages: the URL itself may carry a password. */
export function endpoint(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? 6379 : 5432)}`;
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** undefined when PostgreSQL answers at the admin URL, otherwise why not. */
export async function probePostgres(adminUrl: string): Promise<string | undefined> {
  try {
    await withClient(adminUrl, (client) => client.query('SELECT 1'));
    return undefined;
  } catch (error) {
    return reason(error);
  }
}

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

/** An empty database of its own on the admin URL's server; the app migrates it at start. */
export async function createThrowawayDatabase(adminUrl: string): Promise<ThrowawayDatabase> {
  const name = `groundwork_bench_events_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: databaseUrlOn(adminUrl, name),
    drop: async () => {
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name}`));
    },
  };
}

function benchRedis(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Failures surface through the commands' promises; without a listener ioredis would also print them.
  client.on('error', () => undefined);
  return client;
}

/** undefined when Redis answers PING, otherwise why not. */
export async function probeRedis(url: string): Promise<string | undefined> {
  const client = benchRedis(url);
  // A refused connection rejects connect() with only "Connection is closed."; the socket's error says why.
  let socketError: unknown;
  client.on('error', (error: unknown) => (socketError ??= error));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return reason(socketError ?? error);
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under the run's prefix (the event stream and its dead letters); returns how many went. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const client = benchRedis(url);
  try {
    await client.connect();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}

/**
 * Resolves once `count` distinct events have been handled, in total since
 * the run began; rejects after `timeoutMs` with how far it got.
 */
export function waitForHandled(
  handled: Map<string, number>,
  count: number,
  timeoutMs: number,
  progress: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = setInterval(() => {
      if (handled.size >= count) {
        clearInterval(check);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(check);
        reject(
          new Error(
            `timed out after ${timeoutMs / 1000} s: ${handled.size} of ${count} events handled (${progress()})`,
          ),
        );
      }
    }, 5);
  });
}
