import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { DomainEvent } from '../../src/platform/events/event';
import { serializeEvent } from '../../src/platform/events/outbox';
import { streamKeys } from '../../src/platform/events/redis';
import type { RequestContext } from '../../src/platform/graphql/context';
import { createLogger } from '../../src/platform/logging/logger';
import { attachConnection, LiveHub, type LiveConnection } from '../../src/platform/live/live-hub';
import { RedisLiveFeed } from '../../src/platform/live/live-feed';
import { LiveMetrics } from '../../src/platform/live/metrics';
import type { LiveTopic } from '../../src/platform/live/topic';
import { MemoryTransport } from '../support/memory-transport';
import { redisUrl } from '../support/events';
import { waitFor } from '../support/wait';

const logger = createLogger({ level: 'warn', format: 'json', transports: [new MemoryTransport()] });

function eventOf(type = 'test.live'): DomainEvent {
  return {
    id: randomUUID(),
    type,
    occurredAt: new Date(),
    organizationId: randomUUID(),
    actorId: null,
    requestId: null,
    subject: { type: 'test', id: randomUUID() },
    data: {},
  };
}

/** A gate a test opens when it chooses. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('the live hub', () => {
  it('starts a batch’s statements while the batch before it still waits for the database, and delivers in order', async () => {
    const first = gate();
    const admitted: string[][] = [];
    const topic: LiveTopic = {
      name: 'testChanged',
      types: ['test.live'],
      endWhenRefused: false,
      open: async () => ({ key: 'everything' }),
      keyOf: () => 'everything',
      async admit(recipients) {
        admitted.push(recipients.map((recipient) => recipient.organizationId));
        // The first batch's statement is slow (a busy database); the second's is not held by it.
        if (admitted.length === 1) await first.opened;
        return new Set(recipients.map(({ organizationId, userId }) => `${organizationId}/${userId}`));
      },
      payloads: async (events) => new Map(events.map((event) => [event.id, { id: event.id }])),
    };
    const hub = new LiveHub([topic], new LiveMetrics(), logger);
    const context = {} as RequestContext;
    const connection: LiveConnection = {
      userId: 'reader',
      expiresAt: undefined,
      queued: 0,
      keepingUp: () => true,
      close: () => undefined,
    };
    attachConnection(context, connection);
    const subscription = hub.subscribe('testChanged', { context })[Symbol.asyncIterator]();
    const firstResult = subscription.next();
    await waitFor(() => hub.size === 1, 'the subscription');

    const [one, two] = [eventOf(), eventOf()];
    const delivered = Promise.all([hub.dispatch([one]), hub.dispatch([two])]);
    await waitFor(() => admitted.length === 2, 'the second batch’s statement while the first waits');
    first.open();
    await delivered;
    expect((await firstResult).value).toEqual({ id: one.id });
    expect((await subscription.next()).value).toEqual({ id: two.id });
    await subscription.return?.();
  });
});

(redisUrl ? describe : describe.skip)('the Redis live feed', () => {
  it('reads the next batch while the one before it is being delivered', async () => {
    const prefix = `gw-test:${randomUUID().slice(0, 8)}:`;
    const redis = new Redis(redisUrl!);
    const stream = streamKeys(prefix).events;
    const handed: DomainEvent[][] = [];
    const first = gate();
    const feed = new RedisLiveFeed({
      redisUrl: redisUrl!,
      keyPrefix: prefix,
      logger,
      async deliver(events) {
        handed.push(events);
        if (handed.length === 1) await first.opened;
      },
    });
    // The feed starts at the stream's end: an entry before it makes that end known.
    await redis.xadd(stream, '*', 'event', serializeEvent(eventOf()));
    feed.start();
    try {
      const [one, two] = [eventOf(), eventOf()];
      await waitFor(async () => {
        // Until the feed has read its start, an entry may land before it: add the first again until it arrives.
        if (handed.length === 0) await redis.xadd(stream, '*', 'event', serializeEvent(one));
        return handed.length >= 1;
      }, 'the first batch');
      await redis.xadd(stream, '*', 'event', serializeEvent(two));
      await waitFor(
        () => handed.some((events) => events.some((event) => event.id === two.id)),
        'the second batch while the first is still being delivered',
      );
    } finally {
      first.open();
      await feed.stop();
      await redis.del(stream);
      redis.disconnect();
    }
  });
});
