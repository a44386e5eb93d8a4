import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { DomainEvent, EventConsumer, EventHandler, HandlerContext } from '../../src/platform/events/event';
import type { EventOrigin } from '../../src/platform/events/outbox';
import { ANONYMOUS } from '../../src/platform/graphql/context';
import type { TestApp } from './test-app';
import { Transaction } from '../../src/platform/database/unit-of-work';

/**
 * A consumer for tests: records every event it is handed (`runs`, retries
 * included) and those it finished (`handled`); `behaviour` decides what a
 * run does, so a test can make it fail, hang or succeed.
 */
export class TestConsumer {
  readonly runs: DomainEvent[] = [];
  readonly handled: DomainEvent[] = [];
  behaviour: (event: DomainEvent, attempt: number, ctx: HandlerContext) => Promise<void> = async () => undefined;

  constructor(
    readonly name: string,
    readonly types: string[],
  ) {}

  get consumer(): EventConsumer {
    const handler: EventHandler = async (event, ctx) => {
      this.runs.push(event);
      await this.behaviour(event, this.attempts(event.id), ctx);
      this.handled.push(event);
    };
    return { name: this.name, handlers: Object.fromEntries(this.types.map((type) => [type, handler])) };
  }

  attempts(eventId: string): number {
    return this.runs.filter((event) => event.id === eventId).length;
  }

  timesHandled(eventId: string): number {
    return this.handled.filter((event) => event.id === eventId).length;
  }
}

/** Publishes one event the way a service does: inside a transaction. */
export function publishTestEvent(
  api: TestApp,
  type: string,
  data: object = {},
  origin: EventOrigin = { requestId: `req-${randomBytes(4).toString('hex')}`, viewer: ANONYMOUS },
): Promise<DomainEvent> {
  return api.app.dataSource.transaction((manager) =>
    api.app.events.publisher.publish(new Transaction(manager), origin, {
      type,
      organizationId: null,
      subject: { type: 'test', id: randomUUID() },
      data,
    }),
  );
}

export const redisUrl = process.env.TEST_REDIS_URL;

/** Settings for a Redis Streams app with key prefix of its own; `cleanup` deletes its keys. */
export function redisStreamsEnv(url: string): { env: Record<string, string>; cleanup(): Promise<void> } {
  const prefix = `gw-test:${randomBytes(4).toString('hex')}:`;
  return {
    env: { EVENTS_TRANSPORT: 'redis-streams', REDIS_URL: url, REDIS_KEY_PREFIX: prefix },
    async cleanup() {
      const client = new Redis(url, { lazyConnect: true });
      await client.connect();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      client.disconnect();
    },
  };
}

/** Short timings, so retries and take-overs happen within a test. */
export const FAST_EVENTS = {
  EVENTS_POLL_INTERVAL_MS: '100',
  EVENTS_RETRY_BASE_MS: '50',
  EVENTS_MAX_ATTEMPTS: '3',
  EVENTS_HANDLER_TIMEOUT_MS: '1000',
  EVENTS_CLAIM_IDLE_MS: '2000',
};
