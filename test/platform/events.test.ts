import Redis from 'ioredis';
import type { DomainEvent } from '../../src/platform/events/event';
import { HandlerTimeoutError } from '../../src/platform/events/handler-runner';
import { streamKeys } from '../../src/platform/events/redis';
import { FAST_EVENTS, publishTestEvent, redisStreamsEnv, redisUrl, TestConsumer } from '../support/events';
import { startTestApp, withTableMissing, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';
import { Transaction } from '../../src/platform/database/unit-of-work';

interface TransportCase {
  name: string;
  setup(): { env: Record<string, string>; cleanup(): Promise<void> };
}

const transports: TransportCase[] = [
  { name: 'inline', setup: () => ({ env: { EVENTS_TRANSPORT: 'inline' }, cleanup: async () => undefined }) },
];
const sharedRedis = redisUrl;
if (sharedRedis) transports.push({ name: 'redis-streams', setup: () => redisStreamsEnv(sharedRedis) });

async function countRows(api: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = (await api.app.dataSource.query(`SELECT count(*)::int AS n FROM (${sql}) counted`, params)) as [
    { n: number },
  ];
  return row.n;
}

describe.each(transports)('the $name transport', ({ name, setup }) => {
  const recorder = new TestConsumer('recorder', ['test.ping', 'test.broken']);
  const flaky = new TestConsumer('flaky', ['test.flaky']);
  const broken = new TestConsumer('broken', ['test.broken']);
  const slow = new TestConsumer('slow', ['test.slow']);
  let api: TestApp;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const transport = setup();
    cleanup = transport.cleanup;
    api = await startTestApp({ ...FAST_EVENTS, ...transport.env }, undefined, {
      consumers: [recorder.consumer, flaky.consumer, broken.consumer, slow.consumer],
    });
    expect(api.app.events.transportName).toBe(name);
  });

  afterAll(async () => {
    await api?.stop();
    await cleanup?.();
  });

  it('hands a committed event to its consumer once, with the envelope and a logger carrying the request id', async () => {
    recorder.behaviour = async (event, _attempt, ctx) => {
      ctx.logger.info('recorder saw the event');
    };
    const origin = {
      requestId: 'req-envelope-1',
      viewer: { kind: 'user' as const, userId: '7d1c1c52-9a45-4bb2-8d8e-0d8b6ad0a001' },
    };
    const event = await publishTestEvent(api, 'test.ping', { answer: 42 }, origin);

    await waitFor(() => recorder.timesHandled(event.id) === 1, 'the event to be handled');
    const seen = recorder.handled.find((handled) => handled.id === event.id)!;
    expect(seen).toEqual({
      id: event.id,
      type: 'test.ping',
      occurredAt: event.occurredAt,
      organizationId: null,
      actorId: origin.viewer.userId,
      requestId: 'req-envelope-1',
      subject: event.subject,
      data: { answer: 42 },
    });
    const logged = api.logs.find('recorder saw the event').filter((entry) => entry.eventId === event.id);
    expect(logged).toEqual([
      expect.objectContaining({ requestId: 'req-envelope-1', consumer: 'recorder', eventType: 'test.ping' }),
    ]);
    await waitFor(
      async () =>
        (await countRows(api, 'SELECT 1 FROM outbox WHERE id = $1 AND relayed_at IS NOT NULL', [event.id])) === 1,
      'the outbox row to be marked relayed',
    );
    // The recorder sees the event inside the handler's transaction; its "handled" record commits with it, a moment later.
    await waitFor(
      async () => (await countRows(api, 'SELECT 1 FROM event_consumptions WHERE event_id = $1', [event.id])) === 1,
      'the handled record to commit',
    );
  });

  it('publishes nothing for a write that rolled back', async () => {
    let published: string | undefined;
    await expect(
      api.app.dataSource.transaction(async (manager) => {
        const event = await api.app.events.publisher.publish(
          new Transaction(manager),
          { requestId: 'req-rollback', viewer: { kind: 'anonymous' } },
          {
            type: 'test.ping',
            organizationId: null,
            subject: { type: 'test', id: '7d1c1c52-9a45-4bb2-8d8e-0d8b6ad0a002' },
            data: {},
          },
        );
        published = event.id;
        throw new Error('the write failed after publishing');
      }),
    ).rejects.toThrow('the write failed');
    // A later event being handled proves the relay has looked since.
    const later = await publishTestEvent(api, 'test.ping');
    await waitFor(() => recorder.timesHandled(later.id) === 1, 'a later event');
    expect(recorder.runs.some((event) => event.id === published)).toBe(false);
    expect(await countRows(api, 'SELECT 1 FROM outbox WHERE id = $1', [published])).toBe(0);
  });

  it('refuses to publish outside a transaction', async () => {
    await expect(
      api.app.events.publisher.publish(
        new Transaction(api.app.dataSource.manager),
        { requestId: 'x', viewer: { kind: 'anonymous' } },
        {
          type: 'test.ping',
          organizationId: null,
          subject: { type: 'test', id: '7d1c1c52-9a45-4bb2-8d8e-0d8b6ad0a003' },
          data: {},
        },
      ),
    ).rejects.toThrow(/inside the transaction/);
  });

  it('retries a handler that throws twice, and records the event handled once', async () => {
    flaky.behaviour = async (_event, attempt) => {
      if (attempt <= 2) throw new Error(`flaky attempt ${attempt}`);
    };
    const event = await publishTestEvent(api, 'test.flaky');
    expect(await api.app.events.backlog()).toBeGreaterThanOrEqual(1);
    await waitFor(() => flaky.timesHandled(event.id) === 1, 'the third attempt to succeed');
    await waitFor(async () => (await api.app.events.backlog()) === 0, 'the backlog to be empty');
    expect(flaky.attempts(event.id)).toBe(3);
    expect(
      await countRows(api, 'SELECT 1 FROM event_consumptions WHERE event_id = $1 AND consumer = $2', [
        event.id,
        'flaky',
      ]),
    ).toBe(1);
    const failures = api.logs.find('event handler failed').filter((entry) => entry.eventId === event.id);
    expect(failures).toHaveLength(2);
    expect(await api.app.events.deadLetters.list()).not.toContainEqual(expect.objectContaining({ eventId: event.id }));
  });

  it('fails a handler that runs past the timeout, and retries it', async () => {
    slow.behaviour = async (_event, attempt, ctx) => {
      // Like fetch(url, { signal }): it hangs until the timeout aborts it, then throws.
      if (attempt === 1)
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const event = await publishTestEvent(api, 'test.slow');
    await waitFor(() => slow.timesHandled(event.id) === 1, 'the retry after the timeout');
    expect(slow.attempts(event.id)).toBe(2);
    const [failure] = api.logs.find('event handler failed').filter((entry) => entry.eventId === event.id);
    expect(JSON.stringify(failure)).toContain(new HandlerTimeoutError(1000).message);
  });

  it('dead-letters an event whose handler keeps failing, and replays it to that consumer only', async () => {
    broken.behaviour = async () => {
      throw new Error('always broken');
    };
    const event = await publishTestEvent(api, 'test.broken');
    const letter = await waitFor(
      async () => (await api.app.events.deadLetters.list()).find((entry) => entry.eventId === event.id),
      'the dead letter',
    );
    expect(letter).toMatchObject({
      consumer: 'broken',
      eventType: 'test.broken',
      attempts: 3,
      error: 'Error: always broken',
    });
    expect(broken.attempts(event.id)).toBe(3);
    expect(recorder.timesHandled(event.id)).toBe(1);
    expect(api.app.events.metrics.deadLettered).toBeGreaterThanOrEqual(1);

    broken.behaviour = async () => undefined;
    expect(await api.app.events.deadLetters.replay(letter.id)).toBe(true);
    await waitFor(() => broken.timesHandled(event.id) === 1, 'the replayed event');
    expect(await api.app.events.deadLetters.list()).not.toContainEqual(expect.objectContaining({ eventId: event.id }));
    expect(await api.app.events.deadLetters.replay(letter.id)).toBe(false);
    // The recorder had handled it already: the replay was not its business.
    await publishTestEvent(api, 'test.ping').then((later) =>
      waitFor(() => recorder.timesHandled(later.id) === 1, 'a later event'),
    );
    expect(recorder.attempts(event.id)).toBe(1);
  });

  it('does not run a handler again for an event delivered a second time', async () => {
    const event = await publishTestEvent(api, 'test.ping');
    await waitFor(() => recorder.timesHandled(event.id) === 1, 'the first delivery');
    if (name === 'inline') {
      // As if the process died after the handler ran but before the outbox row was marked.
      await api.app.dataSource.query('UPDATE outbox SET relayed_at = NULL WHERE id = $1', [event.id]);
    } else {
      // As if the relay died between XADD and its commit, and the next one published the row again.
      const redis = new Redis(api.config.REDIS_URL!);
      await redis.xadd(streamKeys(api.config.REDIS_KEY_PREFIX).events, '*', 'event', JSON.stringify(event));
      redis.disconnect();
    }
    const later = await publishTestEvent(api, 'test.ping');
    await waitFor(() => recorder.timesHandled(later.id) === 1, 'a later event');
    await waitFor(
      async () => (await countRows(api, 'SELECT 1 FROM outbox WHERE id = $1 AND relayed_at IS NULL', [event.id])) === 0,
      'the redelivery',
    );
    expect(recorder.attempts(event.id)).toBe(1);
  });

  if (name === 'redis-streams') {
    it('trims the stream once every consumer group has acknowledged', async () => {
      const redis = new Redis(api.config.REDIS_URL!);
      const key = streamKeys(api.config.REDIS_KEY_PREFIX).events;
      const events = await Promise.all(Array.from({ length: 20 }, () => publishTestEvent(api, 'test.ping')));
      await waitFor(() => events.every((event) => recorder.timesHandled(event.id) === 1), 'all 20 events');
      expect(await redis.xlen(key)).toBeGreaterThanOrEqual(20);
      await waitFor(async () => {
        await api.app.events.housekeep();
        return (await redis.xlen(key)) <= 1;
      }, 'the stream to be trimmed');
      redis.disconnect();
    });
  }
});

(usingPostgres ? describe.each(transports) : describe.skip.each(transports))(
  'two $name instances on one database',
  ({ setup }) => {
    const recorder = new TestConsumer('recorder', ['test.ping']);
    const instances: TestApp[] = [];
    let database: TestDatabase;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      database = await createTestDatabase();
      const transport = setup();
      cleanup = transport.cleanup;
      for (let index = 0; index < 2; index += 1) {
        instances.push(
          await startTestApp({ ...FAST_EVENTS, ...transport.env }, database, { consumers: [recorder.consumer] }),
        );
      }
    });

    afterAll(async () => {
      for (const instance of instances) await instance.stop();
      await database?.drop();
      await cleanup?.();
    });

    it('hands every event to each consumer exactly once', async () => {
      const events = await Promise.all(
        Array.from({ length: 60 }, (_, index) => publishTestEvent(instances[index % 2], 'test.ping')),
      );
      await waitFor(() => events.every((event) => recorder.timesHandled(event.id) >= 1), 'all 60 events');
      // Every pair recorded as handled (a later delivery is skipped) and no run in flight: a duplicate has shown up by now, or never will.
      await waitFor(
        async () => (await instances[0].app.events.backlog()) === 0 && recorder.runs.length === recorder.handled.length,
        'every run to finish',
      );
      expect(events.filter((event) => recorder.attempts(event.id) !== 1)).toEqual([]);
      const [row] = (await instances[0].app.dataSource.query(
        `SELECT count(*)::int AS n FROM event_consumptions WHERE consumer = 'recorder' AND event_id = ANY($1::uuid[])`,
        [events.map((event) => event.id)],
      )) as [{ n: number }];
      expect(row.n).toBe(60);
    });
  },
);

describe.each(transports)('stopping a $name instance', ({ name, setup }) => {
  it('finishes the handler in flight and records it before the database closes', async () => {
    const draining = new TestConsumer('draining', ['test.ping']);
    let started = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The handler holds on until the bus has begun to stop, so stop() surely finds it in flight.
    draining.behaviour = async () => {
      started = true;
      await released;
    };
    const transport = setup();
    const database = await createTestDatabase();
    const api = await startTestApp({ ...FAST_EVENTS, ...transport.env }, database, { consumers: [draining.consumer] });
    try {
      const event = await publishTestEvent(api, 'test.ping');
      await waitFor(() => started, 'the handler to start');
      const stopBus = api.app.events.stop.bind(api.app.events);
      api.app.events.stop = () => {
        const stopping = stopBus();
        release();
        return stopping;
      };
      const consumptions: unknown[] = [];
      // Look at the record from inside the shutdown, just before the database closes.
      const destroy = api.app.dataSource.destroy.bind(api.app.dataSource);
      api.app.dataSource.destroy = async () => {
        consumptions.push(
          ...((await api.app.dataSource.query('SELECT consumer FROM event_consumptions WHERE event_id = $1', [
            event.id,
          ])) as unknown[]),
        );
        return destroy();
      };
      await api.app.stop();
      expect(draining.timesHandled(event.id)).toBe(1);
      expect(consumptions).toEqual([{ consumer: 'draining' }]);
      if (name === 'redis-streams') {
        const redis = new Redis(api.config.REDIS_URL!);
        const [pending] = (await redis.xpending(streamKeys(api.config.REDIS_KEY_PREFIX).events, 'draining')) as [
          number,
        ];
        redis.disconnect();
        expect(pending).toBe(0);
      }
    } finally {
      await api.app.stop();
      await database.drop();
      await transport.cleanup();
    }
  });
});

describe.each(transports)('the $name transport while the database cannot record handling', ({ setup }) => {
  it('retries without counting attempts, so the outage dead-letters nothing', async () => {
    const patient = new TestConsumer('patient', ['test.ping']);
    const transport = setup();
    const api = await startTestApp({ ...FAST_EVENTS, ...transport.env }, undefined, { consumers: [patient.consumer] });
    try {
      let event: DomainEvent | undefined;
      await withTableMissing(api, 'event_consumptions', async () => {
        event = await publishTestEvent(api, 'test.ping');
        await waitFor(
          () => api.logs.find(/could not read or record|relay failing/).length >= 1,
          'the failure to be reported',
        );
        // Well past EVENTS_MAX_ATTEMPTS (3): ten tries have failed on the missing table.
        const failedTries = () =>
          api.logs.find('sql failed').filter((entry) => String(entry.error).includes('event_consumptions')).length;
        await waitFor(() => failedTries() >= 10, 'ten tries to fail');
      });
      await waitFor(
        async () => {
          const rows = (await api.app.dataSource.query(
            `SELECT 1 FROM event_consumptions WHERE consumer = 'patient' AND event_id = $1`,
            [event!.id],
          )) as unknown[];
          return rows.length === 1;
        },
        'the event to be recorded once the table is back',
        15_000,
      );
      expect(await api.app.events.deadLetters.list()).toEqual([]);
      expect(api.app.events.metrics.deadLettered).toBe(0);
    } finally {
      await api.stop();
      await transport.cleanup();
    }
  });
});
