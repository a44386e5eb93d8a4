import type Redis from 'ioredis';
import type { Logger } from '../logging/logger';
import { FailureStreak } from './loop';

/** The keys of one deployment's streams. */
export interface StreamKeys {
  events: string;
  deadLetters: string;
  /** The pub/sub channel a process that writes events but does not relay them (ROLE=api) wakes the relays on. */
  wake: string;
}

export function streamKeys(prefix: string): StreamKeys {
  return { events: `${prefix}events`, deadLetters: `${prefix}events:dead`, wake: `${prefix}events:wake` };
}

/**
 * Calls `onMessage` for every message on `channel`, on a connection of its
 * own (subscribed again after each reconnect), and once each time the
 * subscription is in place, for what was published while it was not.
 * Returns what closes it.
 */
export function subscribe(redis: Redis, channel: string, onMessage: () => void): () => void {
  const subscriber = redis.duplicate({ connectionName: `${redis.options.connectionName ?? 'groundwork'}:wake` });
  subscriber.on('error', () => undefined);
  subscriber.on('message', () => onMessage());
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(onMessage, () => undefined);
  });
  subscriber.connect().catch(() => undefined);
  return () => subscriber.disconnect();
}

/**
 * A client that fails a command at once while Redis is unreachable (no
 * offline queue), so a Redis outage never holds up a request or the relay's
 * transaction; it keeps reconnecting in the background.
 */
export function createRedisClient(url: string, logger: Logger, name: string): Redis {
  // ioredis is loaded only when REDIS_URL asks for a client: this module's helpers are imported either way.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { default: RedisClient } = require('ioredis') as typeof import('ioredis');
  const client = new RedisClient(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: true,
  });
  const streak = new FailureStreak(
    (error) => logger.warn('redis unreachable; retrying', { connection: name, error }),
    () => logger.info('redis reachable again', { connection: name }),
  );
  client.on('error', (error: Error) => streak.failed(error));
  client.on('ready', () => streak.succeeded());
  client.connect().catch(() => undefined);
  return client;
}

export function isNoGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/** Creates a consumer group reading the stream from its start (and the stream if need be); false when it existed already. */
export async function createGroup(redis: Redis, stream: string, group: string): Promise<boolean> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false;
    throw error;
  }
}

/** The stream's consumer groups, each with the id of the last entry it was handed; empty when the stream does not exist. */
export async function lastDeliveredIds(redis: Redis, stream: string): Promise<Map<string, string>> {
  let infos: (string | number)[][];
  try {
    infos = (await redis.xinfo('GROUPS', stream)) as (string | number)[][];
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return new Map();
    throw error;
  }
  const field = (info: (string | number)[], name: string) => String(info[info.indexOf(name) + 1]);
  return new Map(infos.map((info) => [field(info, 'name'), field(info, 'last-delivered-id')]));
}

/** Orders two stream entry ids (`<ms>-<seq>`). */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** Fields of a stream entry, from Redis's flat [name, value, ...] list. */
export function entryFields(flat: string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < flat.length; index += 2) fields.set(flat[index], flat[index + 1]);
  return fields;
}

/** Resolves once the client is connected, or after `timeoutMs` whichever comes first. */
export function untilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.on('ready', done);
  });
}
