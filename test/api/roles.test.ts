import Redis from 'ioredis';
import { FAST_EVENTS, redisStreamsEnv, redisUrl, TestConsumer } from '../support/events';
import { createOrganization, ok } from '../support/organizations';
import { createProject } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

/*
 * ROLE=api and ROLE=worker instances of one deployment, on one PostgreSQL and
 * one Redis (a split role on embedded PGlite is a config error:
 * test/config/roles.test.ts). The API instances write events; only workers
 * handle them.
 */
const describeSplit = usingPostgres && redisUrl ? describe : describe.skip;

/** The members of a consumer group, by instance: who reads the stream for that consumer. */
async function groupMembers(url: string, stream: string, group: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    const consumers = (await client.xinfo('CONSUMERS', stream, group)) as (string | number)[][];
    return consumers.map((consumer) => String(consumer[consumer.indexOf('name') + 1]));
  } finally {
    client.disconnect();
  }
}

describeSplit('two API instances and one worker', () => {
  const apiRecorders = [0, 1].map(() => new TestConsumer('recorder', ['organization.created']));
  const workerRecorder = new TestConsumer('recorder', ['organization.created']);
  const apis: TestApp[] = [];
  let worker: TestApp;
  let database: TestDatabase;
  const redis = redisStreamsEnv(redisUrl!);

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = { ...FAST_EVENTS, ...redis.env };
    // The worker never polls within the test: an API instance's commit wakes its relay through Redis.
    worker = await startTestApp({ ...shared, ROLE: 'worker', EVENTS_POLL_INTERVAL_MS: '600000' }, database, {
      consumers: [workerRecorder.consumer],
    });
    for (const recorder of apiRecorders)
      apis.push(await startTestApp({ ...shared, ROLE: 'api' }, database, { consumers: [recorder.consumer] }));
  });

  afterAll(async () => {
    for (const api of apis) await api.stop();
    await worker?.stop();
    await database?.drop();
    await redis.cleanup();
  });

  it('delivers every event written through either API instance exactly once, and the API instances run no handler', async () => {
    const created: string[] = [];
    for (const api of apis) {
      const owner = await signUp(api);
      for (const name of ['One', 'Two', 'Three']) created.push((await createOrganization(api, owner, name)).id);
    }
    // Well within the worker's poll interval: the API instances' commits woke it.
    await waitFor(async () => (await worker.app.events.backlog()) === 0, 'the worker to handle every event', 30_000);

    for (const id of created) {
      expect(workerRecorder.handled.filter((event) => event.organizationId === id)).toHaveLength(1);
      expect(workerRecorder.runs.filter((event) => event.organizationId === id)).toHaveLength(1);
    }
    for (const recorder of apiRecorders) expect(recorder.runs).toEqual([]);
    // The audit consumer (one module's) wrote one row per organization, on the worker.
    const [{ n: audited }] = (await worker.app.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'organization.created' AND organization_id = ANY($1::uuid[])`,
      [created],
    )) as [{ n: number }];
    expect(audited).toBe(created.length);

    // The API instances never started the bus: no handler runner, no group membership, no relay or housekeeping.
    for (const api of apis) {
      expect(api.app.events.runner).toBeUndefined();
      expect(api.app.events.runningConsumers).toEqual([]);
      expect(api.logs.find(/event bus started/)).toEqual([]);
    }
    const stream = `${redis.env.REDIS_KEY_PREFIX}events`;
    for (const { name } of worker.app.events.startedConsumers)
      expect(await groupMembers(redisUrl!, stream, name)).toEqual([worker.app.events.instanceId]);
  });

  it('serves on a worker only /healthz, /readyz and /metrics: /graphql is 404', async () => {
    const post = await fetch(`${worker.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(post.status).toBe(404);
    expect(await post.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    expect((await fetch(`${worker.baseUrl}/graphql?query=%7B__typename%7D`)).status).toBe(404);
    expect((await fetch(`${worker.baseUrl}/graphiql`)).status).toBe(404);

    expect((await fetch(`${worker.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${worker.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    const metrics = await fetch(`${worker.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^events_relayed_total \d+$/m);

    // The API instance answers GraphQL and its metrics as before.
    expect((await apis[0].gql('{ __typename }')).body).toMatchObject({ data: { __typename: 'Query' } });
    expect((await fetch(`${apis[0].baseUrl}/metrics`)).status).toBe(200);
  });
});

describeSplit('a worker that runs one module (WORKER_MODULES=webhooks)', () => {
  const receiver = new WebhookReceiver();
  let receiverUrl: string;
  let api: TestApp;
  let webhooksWorker: TestApp;
  let auditWorker: TestApp | undefined;
  let database: TestDatabase;
  const redis = redisStreamsEnv(redisUrl!);
  const shared = () => ({
    ...FAST_EVENTS,
    ...redis.env,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_HTTP_HOSTS: '127.0.0.1,localhost',
    WEBHOOK_POLL_INTERVAL_MS: '100',
  });

  beforeAll(async () => {
    receiverUrl = await receiver.start();
    database = await createTestDatabase();
    api = await startTestApp({ ...shared(), ROLE: 'api' }, database);
    webhooksWorker = await startTestApp({ ...shared(), ROLE: 'worker', WORKER_MODULES: 'webhooks' }, database);
  });

  afterAll(async () => {
    await auditWorker?.stop();
    await webhooksWorker?.stop();
    await api?.stop();
    await database?.drop();
    await receiver.stop();
    await redis.cleanup();
  });

  const handledBy = async (eventId: string) =>
    (
      (await api.app.dataSource.query(`SELECT consumer FROM event_consumptions WHERE event_id = $1 ORDER BY 1`, [
        eventId,
      ])) as { consumer: string }[]
    ).map((row) => row.consumer);

  it("runs that module's consumer and sender only; the stream keeps what the others have still to read", async () => {
    expect(webhooksWorker.app.events.runningConsumers.map((consumer) => consumer.name)).toEqual(['webhooks']);
    expect(webhooksWorker.app.roles.consumingModules).toEqual(new Set(['webhooks']));

    const owner = await signUp(api);
    const organization = await createOrganization(api, owner);
    await ok(
      api.gql(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
        { input: { organizationId: organization.id, url: `${receiverUrl}/hooks`, eventTypes: ['project.created'] } },
        { token: owner.accessToken },
      ),
    );
    const project = await createProject(api, owner, organization.id);
    // The webhooks consumer made the delivery, and the module's sender (a worker) posted it.
    const delivered = await waitFor(
      () => receiver.received.find((request) => request.body.includes(project.id)),
      'the webhook to arrive',
    );
    const eventId = (JSON.parse(delivered.body) as { data: { id: string } }).data.id;
    expect(await handledBy(eventId)).toEqual(['webhooks']);

    // Only the webhooks group has this worker as a reader.
    const stream = `${redis.env.REDIS_KEY_PREFIX}events`;
    expect(await groupMembers(redisUrl!, stream, 'webhooks')).toEqual([webhooksWorker.app.events.instanceId]);
    expect(await groupMembers(redisUrl!, stream, 'audit')).toEqual([]);

    // Housekeeping here trims by every module's group, not only the ones this worker runs.
    const client = new Redis(redisUrl!, { lazyConnect: true });
    await client.connect();
    const lengthBefore = await client.xlen(stream);
    await api.app.dataSource.query(`UPDATE event_relay_leases SET expires_at = now() WHERE name = 'housekeeping'`);
    expect(await webhooksWorker.app.events.housekeepIfDue(60_000)).toBe(true);
    expect(await client.xlen(stream)).toBe(lengthBefore);
    client.disconnect();

    // A worker for audit, started later, reads what was left for it: nothing was lost.
    auditWorker = await startTestApp({ ...shared(), ROLE: 'worker', WORKER_MODULES: 'audit' }, database);
    await waitFor(async () => (await handledBy(eventId)).includes('audit'), 'the audit worker to catch up');
    expect(await handledBy(eventId)).toEqual(['audit', 'webhooks']);
    expect(receiver.received.filter((request) => request.body.includes(project.id))).toHaveLength(1);
  });
});

(usingPostgres ? describe : describe.skip)(
  'ROLE=api and ROLE=worker on the inline transport (PostgreSQL, no Redis)',
  () => {
    const apiRecorder = new TestConsumer('recorder', ['organization.created']);
    const workerRecorder = new TestConsumer('recorder', ['organization.created']);
    let api: TestApp;
    let worker: TestApp;
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase();
      const shared = { ...FAST_EVENTS, EVENTS_TRANSPORT: 'inline' };
      api = await startTestApp({ ...shared, ROLE: 'api' }, database, { consumers: [apiRecorder.consumer] });
      // No Redis to wake it: the worker finds the API's writes at its next poll.
      worker = await startTestApp({ ...shared, ROLE: 'worker' }, database, { consumers: [workerRecorder.consumer] });
    });

    afterAll(async () => {
      await api?.stop();
      await worker?.stop();
      await database?.drop();
    });

    it('the worker holds the relay lease and handles what the API wrote; the API never relays', async () => {
      const owner = await signUp(api);
      const organization = await createOrganization(api, owner);
      await waitFor(async () => (await worker.app.events.backlog()) === 0, 'the worker to handle every event');
      expect(workerRecorder.handled.filter((event) => event.organizationId === organization.id)).toHaveLength(1);
      expect(apiRecorder.runs).toEqual([]);
      const [lease] = (await api.app.dataSource.query(
        `SELECT holder FROM event_relay_leases WHERE name = 'inline'`,
      )) as { holder: string }[];
      expect(lease.holder).toBe(worker.app.events.instanceId);
    });
  },
);
