import { randomUUID } from 'node:crypto';
import { Transaction } from '../../src/platform/database/unit-of-work';
import { defineBatchConsumer } from '../../src/platform/events/event';
import { ANONYMOUS } from '../../src/platform/graphql/context';
import { TestConsumer } from '../support/events';
import { startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/**
 * Events no consumer handles (notification.created is read only by the live
 * feed) still have to be relayed. A backlog of them once drained one batch
 * (200) per poll interval: a batch in which no consumer ran counted as no
 * progress, so the relay slept until the next poll (the bench's q3 outbox was
 * empty 33-38 s after the load instead of 0.2 s). They also took a consumer's
 * place in a batch: with two per comment, a batch of 200 rows held 67
 * comments, so the relay fell behind while the load lasted.
 */
describe('the inline relay with a backlog of events no consumer handles', () => {
  const recorder = new TestConsumer('recorder', ['test.ping']);
  /** The size of each batch the batch consumer was given. */
  const batches: number[] = [];
  const batcher = defineBatchConsumer<{ 'test.counted': object }>('batcher', ['test.counted'], async (events, ctx) => {
    batches.push(events.length);
    await ctx.transaction(async () => undefined);
  });
  let api: TestApp;

  beforeAll(async () => {
    // A poll interval far beyond the test's patience: only the relay's own "go again" can drain the backlog.
    api = await startTestApp({ EVENTS_TRANSPORT: 'inline', EVENTS_POLL_INTERVAL_MS: '600000' }, undefined, {
      consumers: [recorder.consumer, batcher],
    });
  });

  afterAll(async () => {
    await api?.stop();
  });

  /** Commits every draft in one transaction, so the relay's first read sees them all. */
  const publishAtOnce = (drafts: Parameters<TestApp['app']['events']['publisher']['publishAll']>[1]) =>
    api.app.dataSource.transaction((manager) => api.app.events.publisher.publishAll(new Transaction(manager), drafts));

  /** Waits (30 s at most) until no outbox row is left unrelayed. */
  const outboxRelayed = (what: string) =>
    waitFor(
      async () => {
        const [{ n }] = (await api.app.dataSource.query(
          `SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL`,
        )) as [{ n: number }];
        return n === 0;
      },
      `${what} to be relayed`,
      30_000,
    );

  it('relays every full batch at once, not one batch per poll', async () => {
    // More than two batches: a batch holds up to 1,000 rows when none of them is an event a consumer handles.
    const drafts = Array.from({ length: 2_650 }, (_, index) => ({
      origin: { requestId: `backlog-${index}`, viewer: ANONYMOUS },
      draft: { type: 'test.unheard', organizationId: null, subject: { type: 'test', id: randomUUID() }, data: {} },
    }));
    // One commit wakes the relay once; then a handled event behind the backlog shows it reached the end.
    await publishAtOnce(drafts);
    const last = await api.app.dataSource.transaction((manager) =>
      api.app.events.publisher.publish(
        new Transaction(manager),
        { requestId: 'backlog-end', viewer: ANONYMOUS },
        { type: 'test.ping', organizationId: null, subject: { type: 'test', id: randomUUID() }, data: {} },
      ),
    );
    await outboxRelayed('the backlog');
    expect(recorder.timesHandled(last.id)).toBe(1);
  });

  it('hands a consumer a full batch of its events, however many events no consumer handles lie between them', async () => {
    // 200 handled events (one batch), each followed by two that no consumer handles (as notification.created follows
    // a comment), committed at once so the relay's first read sees them all.
    const drafts = Array.from({ length: 600 }, (_, index) => ({
      origin: { requestId: `mixed-${index}`, viewer: ANONYMOUS },
      draft: {
        type: index % 3 === 0 ? 'test.counted' : 'test.unheard',
        organizationId: null,
        subject: { type: 'test', id: randomUUID() },
        data: {},
      },
    }));
    await publishAtOnce(drafts);
    await outboxRelayed('the mixed backlog');
    // A batch of 200 outbox rows would have held 67 of them.
    expect(batches).toEqual([200]);
  });

  it('doubles the batch after each full one while a backlog lasts (up to 1,000), and is back to 200 after it', async () => {
    const counted = (count: number, label: string) =>
      Array.from({ length: count }, (_, index) => ({
        origin: { requestId: `${label}-${index}`, viewer: ANONYMOUS },
        draft: { type: 'test.counted', organizationId: null, subject: { type: 'test', id: randomUUID() }, data: {} },
      }));
    batches.length = 0;
    await publishAtOnce(counted(3_500, 'growing'));
    await outboxRelayed('the growing backlog');
    // Each cycle (read, the consumers' transactions, marking relayed) costs the same round trips whatever its size:
    // fewer, larger cycles are what let the relay catch up with a write burst.
    expect(batches).toEqual([200, 400, 800, 1_000, 1_000, 100]);

    batches.length = 0;
    await publishAtOnce(counted(300, 'calm'));
    await outboxRelayed('the next burst');
    expect(batches).toEqual([200, 100]);
  });
});
