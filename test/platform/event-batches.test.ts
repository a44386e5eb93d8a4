import { randomUUID } from 'node:crypto';
import { Transaction } from '../../src/platform/database/unit-of-work';
import { defineBatchConsumer, type DomainEvent } from '../../src/platform/events/event';
import { createLogger, requestScope } from '../../src/platform/logging/logger';
import { FAST_EVENTS, redisStreamsEnv, redisUrl } from '../support/events';
import { addMember, createOrganization, ok } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

/*
 * Consumers handle a batch of events per transaction, not one transaction
 * per event; a batch that fails is handled one event at a time, so one bad
 * event is retried and dead-lettered by itself while every other event of
 * the batch is handled exactly once.
 */

interface TransportCase {
  name: string;
  setup(): { env: Record<string, string>; cleanup(): Promise<void> };
}

const transports: TransportCase[] = [
  { name: 'inline', setup: () => ({ env: { EVENTS_TRANSPORT: 'inline' }, cleanup: async () => undefined }) },
];
const sharedRedis = redisUrl;
if (sharedRedis) transports.push({ name: 'redis-streams', setup: () => redisStreamsEnv(sharedRedis) });

type BatchEvents = { 'test.batch': { poison: boolean } };

/** `count` events in one transaction, so they reach the relay together; `poisonAt` names the index of the one that fails, in an organization of its own. */
async function publishTogether(api: TestApp, count: number, poisonAt: number): Promise<DomainEvent[]> {
  const [lane, poisonLane] = [randomUUID(), randomUUID()];
  return api.app.dataSource.transaction(async (manager) => {
    const events: DomainEvent[] = [];
    for (let index = 0; index < count; index += 1) {
      const poison = index === poisonAt;
      events.push(
        await api.app.events.publisher.publish(
          new Transaction(manager),
          { requestId: `req-batch-${index}`, viewer: { kind: 'anonymous' } },
          {
            type: 'test.batch',
            organizationId: poison ? poisonLane : lane,
            subject: { type: 'test', id: randomUUID() },
            data: { poison },
          },
        ),
      );
    }
    return events;
  });
}

describe.each(transports)('a batch consumer on the $name transport', ({ name, setup }) => {
  /** The size of each batch the handler was given. */
  const calls: number[] = [];
  /** Events whose writes committed, as often as they did. */
  const committed: string[] = [];
  const batcher = defineBatchConsumer<BatchEvents>('batcher', ['test.batch'], async (events, ctx) => {
    calls.push(events.length);
    const applied = await ctx.transaction(async (tx, fresh) => {
      // A real write per event, in the batch's transaction: a rolled-back batch leaves none.
      await tx.manager.query('INSERT INTO batch_effects (event_id) SELECT unnest($1::uuid[])', [
        fresh.map((event) => event.id),
      ]);
      if (fresh.some((event) => (event.data as BatchEvents['test.batch']).poison))
        throw new Error('a poisoned event in the batch');
      return fresh.map((event) => event.id);
    });
    committed.push(...applied);
  });
  let api: TestApp;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const transport = setup();
    cleanup = transport.cleanup;
    api = await startTestApp({ ...FAST_EVENTS, ...transport.env }, undefined, { consumers: [batcher] });
    await api.app.dataSource.query('CREATE TABLE batch_effects (event_id uuid NOT NULL)');
  });

  afterAll(async () => {
    await api?.stop();
    await cleanup?.();
  });

  it('handles many events in one transaction, and a batch with a bad event one event at a time: none lost, none twice', async () => {
    const events = await publishTogether(api, 30, 12);
    const poison = events[12];
    const good = events.filter((event) => event !== poison);

    const letter = await waitFor(
      async () => (await api.app.events.deadLetters.list()).find((entry) => entry.eventId === poison.id),
      'the bad event to be dead-lettered',
    );
    expect(letter).toMatchObject({ consumer: 'batcher', attempts: 3 });
    await waitFor(() => good.every((event) => committed.includes(event.id)), 'every good event to be handled');

    if (name === 'inline') {
      // The relay read all 30 at once: the handler was given them in one call, which failed, then one at a time.
      expect(calls[0]).toBe(30);
    } else {
      // XREADGROUP may answer the first entry alone, then the rest: fewer calls than events before the fallback.
      expect(calls.slice(0, 2).reduce((sum, size) => sum + size, 0)).toBeGreaterThan(2);
    }
    expect(committed.filter((id) => id === poison.id)).toEqual([]);
    expect([...committed].sort()).toEqual(good.map((event) => event.id).sort());
    const effects = (await api.app.dataSource.query(
      'SELECT event_id AS id, count(*)::int AS n FROM batch_effects GROUP BY event_id',
    )) as { id: string; n: number }[];
    expect(effects.filter((row) => row.n !== 1)).toEqual([]);
    expect(effects.map((row) => row.id).sort()).toEqual(good.map((event) => event.id).sort());
    const handled = (await api.app.dataSource.query(
      `SELECT event_id AS id FROM event_consumptions WHERE consumer = 'batcher'`,
    )) as { id: string }[];
    expect(handled.map((row) => row.id).sort()).toEqual(good.map((event) => event.id).sort());
  });

  it('writes nothing again for a batch delivered a second time', async () => {
    const before = calls.length;
    const events = await publishTogether(api, 5, -1);
    await waitFor(() => events.every((event) => committed.includes(event.id)), 'the batch');
    // Handed over again, as after a relay that died before marking it: the runner finds each event handled.
    const outcomes = await api.app.events.runner!.runBatch(batcher, events, { checkedUnhandled: true });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(events.map(() => 'duplicate'));
    expect(committed.filter((id) => events.some((event) => event.id === id))).toHaveLength(5);
    const [row] = (await api.app.dataSource.query(
      'SELECT count(*)::int AS n FROM batch_effects WHERE event_id = ANY($1::uuid[])',
      [events.map((event) => event.id)],
    )) as [{ n: number }];
    expect(row.n).toBe(5);
    expect(calls.length).toBeGreaterThan(before);
  });
});

describe("the modules' consumers (audit, notifications, webhooks) on a batch of comments, inline", () => {
  let api: TestApp;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    const receiverUrl = await receiver.start();
    // Polls far apart: the relay runs only when woken, so every statement counted below is the batch's.
    api = await startTestApp({
      ...FAST_EVENTS,
      EVENTS_TRANSPORT: 'inline',
      EVENTS_POLL_INTERVAL_MS: '600000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_HTTP_HOSTS: '127.0.0.1',
    });
    const owner = await signUp(api);
    const organizationId = (await createOrganization(api, owner, 'Batches')).id;
    const member = await addMember(api, owner, organizationId, 'MEMBER');
    const project = await createProject(api, owner, organizationId);
    const task = await createTask(api, owner, project.id, { assigneeId: member.user.id });
    await ok(
      api.gql(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
        {
          input: { organizationId, url: `${receiverUrl}/hook`, eventTypes: ['comment.added'] },
        },
        { token: owner.accessToken },
      ),
    );
    await waitFor(async () => (await api.app.events.backlog()) === 0, 'the setup events to be handled');

    // The bus stops; 20 comments wait in the outbox; it starts again inside a scope that tags every statement it runs.
    const consumers = api.app.events.startedConsumers;
    await api.app.events.stop();
    for (let index = 0; index < 20; index += 1) {
      await ok(
        api.gql(ADD_COMMENT, { input: { taskId: task.id, body: `Comment ${index}` } }, { token: owner.accessToken }),
      );
    }
    const logger = createLogger({ level: 'debug', format: api.config.logFormat, transports: [api.logs] }).child({
      requestId: 'event-batch',
    });
    requestScope.run({ requestId: 'event-batch', logger }, () => api.app.events.start([...consumers]));
  });

  afterAll(async () => {
    await api?.stop();
    await receiver.stop();
  });

  it('handles 20 comment.added events in one transaction per consumer, about one statement per event in all', async () => {
    const relayed = async () =>
      (
        (await api.app.dataSource.query('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL')) as [
          { n: number },
        ]
      )[0].n === 0;
    await waitFor(relayed, 'the 20 comments to be handled and marked relayed');
    const sql = api.logs
      .find('sql')
      .filter((entry) => entry.requestId === 'event-batch')
      .map((entry) => String(entry.sql));
    const transactions = sql.filter((statement) => /^(START TRANSACTION|BEGIN)/.test(statement));
    // audit, notifications, webhooks: one each, whatever the number of events.
    expect(transactions).toHaveLength(3);
    // The lease, the outbox read, audit 4, notifications 7 (the tasks and the memberships read first; the 20
    // notification.created events of its rows in one INSERT), webhooks 4, marking relayed; then the relay's pass over
    // those 20 notification.created events (no consumer handles them): the outbox read and marking them relayed.
    // 20 for 40 events (one at a time, it was 13 or more per event).
    expect(sql.length).toBeLessThanOrEqual(20);
    const [counts] = (await api.app.dataSource.query(
      `SELECT (SELECT count(*)::int FROM audit_events WHERE type = 'comment.added') AS audit,
              (SELECT count(*)::int FROM notifications WHERE type = 'comment.added') AS notifications,
              (SELECT count(*)::int FROM webhook_deliveries WHERE event_type = 'comment.added') AS webhooks`,
    )) as [{ audit: number; notifications: number; webhooks: number }];
    expect(counts).toEqual({ audit: 20, notifications: 20, webhooks: 20 });
  });
});
