import Redis from 'ioredis';
import type { DomainEvent } from '../../src/platform/events/event';
import { streamKeys } from '../../src/platform/events/redis';
import { FAST_EVENTS, publishTestEvent, TestConsumer } from '../support/events';
import { startTestApp, type TestApp } from '../support/test-app';
import { startThrowawayRedis, type ThrowawayServer } from '../support/throwaway-servers';
import { waitFor } from '../support/wait';

/*
 * Redis Streams carry events; the outbox is their record. What Redis loses
 * before every consumer handled it is relayed again: after
 * EVENTS_REDELIVER_AFTER_MS, or at once when a stream or consumer group
 * vanished. Each test has a redis-server of its own (on PGlite, or on
 * PostgreSQL with TEST_DATABASE_URL).
 */
const PATIENT = {
  ...FAST_EVENTS,
  EVENTS_TRANSPORT: 'redis-streams',
  EVENTS_HANDLER_TIMEOUT_MS: '10000',
  EVENTS_CLAIM_IDLE_MS: '20000',
};

let redis: ThrowawayServer;
let client: Redis;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.destroy();
});

/** An app on the test's Redis with these consumers; stopped after the describe's tests. */
function appWith(consumers: TestConsumer[], env: Record<string, string>): () => TestApp {
  let api: TestApp | undefined;
  beforeAll(async () => {
    api = await startTestApp({ ...PATIENT, REDIS_URL: redis.url, ...env }, undefined, {
      consumers: consumers.map((consumer) => consumer.consumer),
    });
  });
  afterAll(async () => {
    await api?.stop();
  });
  return () => api!;
}

/** A consumer whose handler waits until `open()`: the events after the one in hand stay unread in the stream. */
function gatedConsumer(name: string, type: string): { consumer: TestConsumer; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const consumer = new TestConsumer(name, [type]);
  consumer.behaviour = () => opened;
  return { consumer, open };
}

async function outboxRows(
  app: TestApp,
  events: DomainEvent[],
): Promise<{ id: string; streamId: string | null; settled: boolean; relayed: boolean }[]> {
  return (await app.app.dataSource.query(
    `SELECT id, stream_id AS "streamId", settled_at IS NOT NULL AS settled, relayed_at IS NOT NULL AS relayed FROM outbox WHERE id = ANY($1::uuid[])`,
    [events.map((event) => event.id)],
  )) as { id: string; streamId: string | null; settled: boolean; relayed: boolean }[];
}

/** One event the gated consumer holds in its handler, and `count` more relayed behind it, unread. */
async function heldBack(app: TestApp, gated: TestConsumer, count: number): Promise<DomainEvent[]> {
  const [type] = gated.types;
  const first = await publishTestEvent(app, type);
  await waitFor(() => gated.runs.some((event) => event.id === first.id), 'the handler to hold the first event');
  const behind = await Promise.all(Array.from({ length: count }, () => publishTestEvent(app, type)));
  await waitFor(
    async () => (await outboxRows(app, behind)).every((row) => row.streamId),
    'the events behind it to be relayed',
  );
  return behind;
}

/** What the warnings about events relayed again say, summed up. */
function relayedAgain(app: TestApp): { events: number; groupsRebuilt: boolean[] } {
  const warnings = app.logs.find(/relayed again/).filter((entry) => entry.level === 'warn');
  return {
    events: warnings.reduce((sum, entry) => sum + Number(entry.events), 0),
    groupsRebuilt: [...new Set(warnings.map((entry) => Boolean(entry.groupsRebuilt)))],
  };
}

describe('events Redis lost, after EVENTS_REDELIVER_AFTER_MS (the redis-streams transport)', () => {
  const lost = gatedConsumer('lost', 'test.lost');
  const flaky = new TestConsumer('flaky', ['test.flaky']);
  const broken = new TestConsumer('broken', ['test.broken']);
  const quick = new TestConsumer('quick', ['test.kept']);
  const kept = gatedConsumer('kept', 'test.kept');
  // Each retry comes later than the bound, so a check of the database alone would relay a retried event again.
  const app = appWith([lost.consumer, flaky, broken, quick, kept.consumer], {
    EVENTS_REDELIVER_AFTER_MS: '300',
    EVENTS_RETRY_BASE_MS: '600',
  });

  it('relays again an event whose stream entry was lost while its group stood', async () => {
    const behind = await heldBack(app(), lost.consumer, 5);
    const before = app().app.events.metrics.redelivered;
    await client.xdel(
      streamKeys(app().config.REDIS_KEY_PREFIX).events,
      ...(await outboxRows(app(), behind)).map((row) => row.streamId!),
    );
    lost.open();

    await waitFor(
      () => behind.every((event) => lost.consumer.timesHandled(event.id) === 1),
      'the lost events to be relayed again and handled',
    );
    expect(app().app.events.metrics.redelivered - before).toBe(5);
    expect(relayedAgain(app())).toEqual({ events: 5, groupsRebuilt: [false] });
    await waitFor(
      async () => (await outboxRows(app(), behind)).every((row) => row.settled),
      'the events to be settled once handled',
    );
    expect(behind.map((event) => lost.consumer.attempts(event.id))).toEqual([1, 1, 1, 1, 1]);
  });

  it('does not relay again an event still pending in its group (a handler being retried)', async () => {
    flaky.behaviour = async (_event, attempt) => {
      if (attempt <= 2) throw new Error(`attempt ${attempt} fails`);
    };
    const before = app().app.events.metrics.redelivered;
    const event = await publishTestEvent(app(), 'test.flaky');

    const [relayed] = await waitFor(async () => {
      const rows = await outboxRows(app(), [event]);
      return rows[0]?.streamId ? rows : undefined;
    }, 'the event to be relayed');
    await waitFor(() => flaky.timesHandled(event.id) === 1, 'the third attempt', 15_000);
    await waitFor(async () => (await outboxRows(app(), [event]))[0].settled, 'the event to be settled');
    expect(flaky.attempts(event.id)).toBe(3);
    expect(app().app.events.metrics.redelivered).toBe(before);
    // Still the entry it first went out as: never handed back to the relay.
    expect((await outboxRows(app(), [event]))[0].streamId).toBe(relayed.streamId);
  });

  it('does not relay again an event its consumer gave up on (dead-lettered), and counts it out of the backlog', async () => {
    broken.behaviour = async () => {
      throw new Error('always broken');
    };
    const before = app().app.events.metrics.redelivered;
    const event = await publishTestEvent(app(), 'test.broken');

    await waitFor(
      async () => (await app().app.events.deadLetters.list()).some((letter) => letter.eventId === event.id),
      'the dead letter',
      15_000,
    );
    await waitFor(async () => (await outboxRows(app(), [event]))[0].settled, 'the event to be settled');
    expect(await app().app.events.backlog()).toBe(0);
    expect(broken.attempts(event.id)).toBe(3);
    expect(app().app.events.metrics.redelivered).toBe(before);
  });

  it('keeps past retention an event a consumer has still to handle, and the handled records of those that did', async () => {
    const api = app();
    const event = await publishTestEvent(api, 'test.kept');
    await waitFor(
      () => quick.timesHandled(event.id) === 1 && kept.consumer.runs.length === 1,
      'one consumer to handle it and the other to hold it',
    );
    const consumptions = async () =>
      (
        (await api.app.dataSource.query(
          `SELECT consumer FROM event_consumptions WHERE event_id = $1 ORDER BY consumer`,
          [event.id],
        )) as { consumer: string }[]
      ).map((row) => row.consumer);
    const age = async () => {
      await api.app.dataSource.query(`UPDATE outbox SET relayed_at = now() - interval '8 days' WHERE id = $1`, [
        event.id,
      ]);
      await api.app.dataSource.query(
        `UPDATE event_consumptions SET handled_at = now() - interval '8 days' WHERE event_id = $1`,
        [event.id],
      );
    };
    await age();

    await api.app.events.housekeep();
    expect(await outboxRows(api, [event])).toEqual([expect.objectContaining({ id: event.id, settled: false })]);
    expect(await consumptions()).toEqual(['quick']);

    kept.open();
    await waitFor(
      async () => (await outboxRows(api, [event]))[0].settled,
      'the event to be settled once both handled it',
    );
    await age();
    await api.app.events.housekeep();
    expect(await outboxRows(api, [event])).toEqual([]);
    expect(await consumptions()).toEqual([]);
    expect([quick.attempts(event.id), kept.consumer.attempts(event.id)]).toEqual([1, 1]);
  });
});

describe('a stream or consumer group Redis lost, at once (the redis-streams transport)', () => {
  const deleted = gatedConsumer('deleted', 'test.deleted');
  const destroyed = gatedConsumer('destroyed', 'test.destroyed');
  // Far past the test's waits: only the prompt rebuild brings the events back.
  const app = appWith([deleted.consumer, destroyed.consumer], { EVENTS_REDELIVER_AFTER_MS: '600000' });

  it('rebuilds a deleted stream from the outbox, without waiting for EVENTS_REDELIVER_AFTER_MS', async () => {
    const behind = await heldBack(app(), deleted.consumer, 5);
    await client.del(streamKeys(app().config.REDIS_KEY_PREFIX).events);
    deleted.open();

    await waitFor(
      () => behind.every((event) => deleted.consumer.timesHandled(event.id) === 1),
      'the stream to be rebuilt',
    );
    // The event in the handler went with the stream too: a sweep before its handled record commits relays it again as well.
    const relayed = relayedAgain(app());
    expect([5, 6]).toContain(relayed.events);
    expect(relayed.groupsRebuilt).toEqual([true]);
    expect(app().app.events.metrics.redelivered).toBe(relayed.events);
    expect(deleted.consumer.handled.map((event) => event.id).sort()).toEqual(
      deleted.consumer.runs.map((event) => event.id).sort(),
    );
    expect(new Set(deleted.consumer.handled.map((event) => event.id)).size).toBe(6);
  });

  it('makes a destroyed consumer group again; the events it had not handled reach it once', async () => {
    const behind = await heldBack(app(), destroyed.consumer, 5);
    await client.xgroup('DESTROY', streamKeys(app().config.REDIS_KEY_PREFIX).events, 'destroyed');
    destroyed.open();

    await waitFor(
      () => behind.every((event) => destroyed.consumer.timesHandled(event.id) === 1),
      'the group to be made again',
    );
    const later = await publishTestEvent(app(), 'test.destroyed');
    await waitFor(() => destroyed.consumer.timesHandled(later.id) === 1, 'a later event');
    expect(behind.map((event) => destroyed.consumer.attempts(event.id))).toEqual([1, 1, 1, 1, 1]);
  });
});
