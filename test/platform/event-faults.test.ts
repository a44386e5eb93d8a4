import { randomBytes } from 'node:crypto';
import { postQuery, spawnApp } from '../support/child-process';
import { FAST_EVENTS, TestConsumer } from '../support/events';
import { createOrganization, type Session } from '../support/organizations';
import { SIGN_UP, signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { describeFaults, throwawayDatabase } from '../support/faults';
import type { TestDatabase } from '../support/test-database';
import { startThrowawayPostgres, startThrowawayRedis, type ThrowawayServer } from '../support/throwaway-servers';
import { waitFor } from '../support/wait';

/*
 * Faults the event bus must ride out. Each test runs its own redis-server
 * and PostgreSQL cluster on free ports and stops and starts those; the
 * machine's shared services are never touched. They run in
 * `npm run test:faults` (see test/support/faults.ts).
 */
// Servers stopped and started for real: seconds idle, minutes on a loaded machine.
jest.setTimeout(240_000);

const prefix = () => `gw-fault:${randomBytes(4).toString('hex')}:`;

async function readiness(api: TestApp): Promise<{ status: number; body: { checks?: Record<string, string> } }> {
  const response = await fetch(`${api.baseUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks?: Record<string, string> } };
}

async function unrelayed(api: TestApp): Promise<number> {
  const [row] = (await api.app.dataSource.query('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL')) as [
    { n: number },
  ];
  return row.n;
}

describeFaults('when Redis goes away for a while', () => {
  const recorder = new TestConsumer('recorder', ['organization.created']);
  let redis: ThrowawayServer;
  let database: TestDatabase;
  let api: TestApp;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    database = await throwawayDatabase();
    api = await startTestApp({ ...FAST_EVENTS, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix() }, database, {
      consumers: [recorder.consumer],
    });
  });

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
    await redis?.destroy();
  });

  it('still takes writes, keeps their events in the outbox, says so in /readyz, and delivers them once Redis is back', async () => {
    const owner = await signUp(api);
    const before = await createOrganization(api, owner, 'Before the outage');
    await waitFor(
      () => recorder.handled.some((event) => event.organizationId === before.id),
      'the event before the outage',
    );
    expect((await readiness(api)).status).toBe(200);

    await redis.stop();
    const during: string[] = [];
    for (const name of ['During one', 'During two', 'During three'])
      during.push((await createOrganization(api, owner, name)).id);
    const report = await waitFor(async () => {
      const current = await readiness(api);
      return current.status === 503 ? current : undefined;
    }, '/readyz to notice');
    expect(report.body.checks).toMatchObject({ database: 'ok', redis: expect.stringMatching(/failed|no answer/) });
    await waitFor(() => api.logs.find(/event relay to redis failing/).length > 0, 'the relay to report the outage');
    expect(await unrelayed(api)).toBe(3);
    expect(recorder.handled.filter((event) => during.includes(event.organizationId!))).toEqual([]);

    await redis.start();
    await waitFor(
      () => during.every((id) => recorder.handled.some((event) => event.organizationId === id)),
      'the events from the outage',
    );
    // Redis came back empty: what it held unhandled for some consumer is relayed again, so the outbox drains rather than is drained now.
    await waitFor(
      async () => (await unrelayed(api)) === 0 && (await api.app.events.backlog()) === 0,
      'every event to be relayed and handled',
    );
    expect((await readiness(api)).status).toBe(200);
    for (const id of during) expect(recorder.handled.filter((event) => event.organizationId === id)).toHaveLength(1);
  });
});

describeFaults.each(['inline', 'redis-streams'])('when PostgreSQL restarts under the %s transport', (transport) => {
  const recorder = new TestConsumer('recorder', ['organization.created']);
  let postgres: ThrowawayServer;
  let redis: ThrowawayServer | undefined;
  let api: TestApp;

  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
    redis = transport === 'redis-streams' ? await startThrowawayRedis() : undefined;
    const env = {
      ...FAST_EVENTS,
      DATABASE_URL: postgres.url,
      EVENTS_TRANSPORT: transport,
      ...(redis ? { REDIS_URL: redis.url } : {}),
    };
    api = await startTestApp(env, { env: {}, drop: async () => undefined }, { consumers: [recorder.consumer] });
  });

  afterAll(async () => {
    await api?.stop();
    await postgres?.destroy();
    await redis?.destroy();
  });

  it('the relay recovers by itself and delivers what is written afterwards', async () => {
    const owner = await signUp(api);
    const first = await createOrganization(api, owner, 'First');
    await waitFor(() => recorder.handled.some((event) => event.organizationId === first.id), 'the first event');

    await postgres.stop();
    await waitFor(async () => (await readiness(api)).status === 503, '/readyz to notice the database is gone');
    await waitFor(() => api.logs.find(/relay.*failing/).length > 0, 'the relay to report the failure');
    await postgres.start();
    await waitFor(async () => (await readiness(api)).status === 200, '/readyz to recover');

    const after = await waitFor(async () => {
      const response = await api.gql(
        `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`,
        { input: { name: 'After' } },
        {
          token: owner.accessToken,
        },
      );
      return response.body.data?.createOrganization?.id as string | undefined;
    }, 'a write to succeed again');
    await waitFor(
      () => recorder.handled.some((event) => event.organizationId === after),
      'the event written after the restart',
    );
    expect(api.logs.find(/relay.*recovered/).length).toBeGreaterThan(0);
  });
});

describeFaults.each(['inline', 'redis-streams'])('when an instance is killed mid-handler (%s)', (transport) => {
  const worker = new TestConsumer('worker', ['organization.created']);
  let database: TestDatabase;
  let redis: ThrowawayServer | undefined;
  let survivor: TestApp | undefined;

  afterAll(async () => {
    await survivor?.stop();
    await database?.drop();
    await redis?.destroy();
  });

  it('loses nothing: another instance takes the event over and handles it once', async () => {
    database = await throwawayDatabase();
    redis = transport === 'redis-streams' ? await startThrowawayRedis() : undefined;
    const shared = {
      EVENTS_TRANSPORT: transport,
      REDIS_KEY_PREFIX: prefix(),
      ...database.env,
      ...(redis ? { REDIS_URL: redis.url } : {}),
    };

    const doomed = spawnApp(
      {
        ...shared,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        JWT_SECRET: randomBytes(32).toString('base64url'),
        PASSWORD_HASH_COST: '12',
        EVENTS_POLL_INTERVAL_MS: '100',
        EVENTS_HANDLER_TIMEOUT_MS: '3000',
        EVENTS_CLAIM_IDLE_MS: '4000',
      },
      'test/support/event-instance.ts',
    );
    const url = await doomed.ready;
    const signedUp = await postQuery(url, SIGN_UP, {
      input: { email: uniqueEmail('doomed'), password: 'correct horse battery', name: 'Doomed' },
    });
    const owner = signedUp.data!.signUp as Session;
    const created = await postQuery(
      url,
      `mutation { createOrganization(input: { name: "Mid-handler" }) { id } }`,
      undefined,
      owner.accessToken,
    );
    const organizationId = created.data!.createOrganization.id as string;

    const eventId = await waitFor(
      () => /handling (\S+)/.exec(doomed.output())?.[1],
      'the doomed instance to start the handler',
    );
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });

    survivor = await startTestApp({ ...FAST_EVENTS, ...shared }, database, { consumers: [worker.consumer] });
    await waitFor(() => worker.timesHandled(eventId) === 1, 'the survivor to take the event over');
    expect(worker.handled.find((event) => event.id === eventId)).toMatchObject({
      type: 'organization.created',
      organizationId,
    });
    // Recorded as handled (a later delivery is skipped) and no run in flight: a second run has started by now, or never will.
    await waitFor(
      async () => (await survivor!.app.events.backlog()) === 0 && worker.runs.length === worker.handled.length,
      'every run to finish',
    );
    expect(worker.attempts(eventId)).toBe(1);
    const [row] = (await survivor.app.dataSource.query(
      `SELECT count(*)::int AS n FROM event_consumptions WHERE consumer = 'worker' AND event_id = $1`,
      [eventId],
    )) as [{ n: number }];
    expect(row.n).toBe(1);
  });
});
