import { randomBytes } from 'node:crypto';
import { isForbiddenAddress } from '../../src/modules/webhooks/address-guard';
import { SecretBox } from '../../src/modules/webhooks/secret-box';
import { eventTypes } from '../../src/modules';
import { verifyWebhookSignature } from '../../src/modules/webhooks';
import { eventTypeName } from '../../src/platform/graphql/event-types';
import { FAST_EVENTS, redisStreamsEnv, redisUrl } from '../support/events';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { CREATE_TASK, createProject } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { eventsHandled, waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes active createdAt } } }`;
const ENDPOINTS = `query($id: ID!) { webhookEndpoints(organizationId: $id) {
  id url active deliveries(first: 10) { totalCount edges { node { id eventId eventType status attempts lastResponseStatus lastError nextAttemptAt } } } } }`;
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attempts } }`;

/** Local receivers need the private-network setting; retries come after a second, and a receiver has half a second to answer. */
const WEBHOOK_TEST_ENV = {
  ...FAST_EVENTS,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_HTTP_HOSTS: '127.0.0.1,localhost',
  WEBHOOK_RETRY_SCHEDULE: '1s',
  WEBHOOK_TIMEOUT_MS: '500',
  WEBHOOK_MAX_ATTEMPTS: '3',
  WEBHOOK_POLL_INTERVAL_MS: '100',
};

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastResponseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

let api: TestApp;
let receiver: WebhookReceiver;
let receiverUrl: string;
let owner: Session;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  receiverUrl = await receiver.start();
  api = await startTestApp(WEBHOOK_TEST_ENV);
  owner = await signUp(api);
});

afterAll(async () => {
  await api?.stop();
  await receiver?.stop();
});

async function setUp(eventTypes = ['task.created'], path = '/hooks') {
  const organization = await createOrganization(api, owner);
  const created = await ok(
    api.gql(
      CREATE_ENDPOINT,
      { input: { organizationId: organization.id, url: `${receiverUrl}${path}`, eventTypes } },
      { token: owner.accessToken },
    ),
  );
  const project = await createProject(api, owner, organization.id);
  return {
    organization,
    project,
    endpoint: created.createWebhookEndpoint.endpoint as { id: string },
    secret: created.createWebhookEndpoint.secret as string,
  };
}

async function createTask(projectId: string, title = 'Hooked') {
  const requestId = `webhook-test-${Math.random().toString(36).slice(2)}`;
  const data = await ok(
    api.gql(
      CREATE_TASK,
      { input: { projectId, title } },
      { token: owner.accessToken, headers: { 'x-request-id': requestId } },
    ),
  );
  const [event] = (await api.app.dataSource.query(
    `SELECT id FROM outbox WHERE request_id = $1 AND type = 'task.created'`,
    [requestId],
  )) as { id: string }[];
  return { taskId: data.createTask.id as string, eventId: event.id, requestId };
}

async function deliveriesOf(organizationId: string, endpointId: string): Promise<Delivery[]> {
  const data = await ok(api.gql(ENDPOINTS, { id: organizationId }, { token: owner.accessToken }));
  const endpoint = (data.webhookEndpoints as { id: string; deliveries: { edges: { node: Delivery }[] } }[]).find(
    (entry) => entry.id === endpointId,
  )!;
  return endpoint.deliveries.edges.map((edge) => edge.node);
}

function deliveryFor(organizationId: string, endpointId: string, eventId: string, status: string) {
  return waitFor(
    async () =>
      (await deliveriesOf(organizationId, endpointId)).find(
        (entry) => entry.eventId === eventId && entry.status === status,
      ),
    `a ${status} delivery`,
  );
}

describe('webhook endpoints', () => {
  it('shows the secret once, stores it sealed, and lists the endpoint to ADMIN+ only', async () => {
    const { organization, endpoint, secret } = await setUp(['task.created', 'comment.added']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [row] = (await api.app.dataSource.query('SELECT secret_sealed FROM webhook_endpoints WHERE id = $1', [
      endpoint.id,
    ])) as { secret_sealed: string }[];
    expect(row.secret_sealed).not.toContain(secret.slice(6));
    expect(SecretBox.fromConfig(api.config).open(row.secret_sealed)).toBe(secret);

    const listed = await ok(
      api.gql(
        `query($id: ID!) { webhookEndpoints(organizationId: $id) { id url eventTypes active } }`,
        { id: organization.id },
        { token: owner.accessToken },
      ),
    );
    expect(listed.webhookEndpoints).toEqual([
      { id: endpoint.id, url: `${receiverUrl}/hooks`, eventTypes: ['task.created', 'comment.added'], active: true },
    ]);

    const member = await addMember(api, owner, organization.id, 'MEMBER');
    expect(
      codeOf(
        await api.gql(
          `query($id: ID!) { webhookEndpoints(organizationId: $id) { id } }`,
          { id: organization.id },
          { token: member.accessToken },
        ),
      ),
    ).toBe('FORBIDDEN');
    const byMember = await api.gql(
      CREATE_ENDPOINT,
      { input: { organizationId: organization.id, url: `${receiverUrl}/x`, eventTypes: ['task.created'] } },
      { token: member.accessToken },
    );
    expect(codeOf(byMember)).toBe('FORBIDDEN');
    expect(
      codeOf(
        await api.gql(
          `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`,
          { id: endpoint.id },
          { token: member.accessToken },
        ),
      ),
    ).toBe('FORBIDDEN');
  });

  it('refuses unknown event types, plain http to other hosts, and credentials in the URL (BAD_USER_INPUT)', async () => {
    const organization = await createOrganization(api, owner);
    const create = (url: string, eventTypes = ['task.created']) =>
      api.gql(
        CREATE_ENDPOINT,
        { input: { organizationId: organization.id, url, eventTypes } },
        { token: owner.accessToken },
      );
    const unknown = await create(`${receiverUrl}/x`, ['task.created', 'task.exploded']);
    expect(unknown.body.errors![0]).toMatchObject({
      extensions: {
        code: 'BAD_USER_INPUT',
        validationErrors: [{ field: 'eventTypes', messages: [expect.stringContaining('task.exploded')] }],
      },
    });
    // The known types it lists are the catalogs' webhook types.
    expect(unknown.body.errors![0].extensions.validationErrors[0].messages[0]).toContain(
      `known: ${eventTypes.webhookTypes.join(', ')}`,
    );
    expect(codeOf(await create('http://example.com/hook'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create('ftp://example.com/hook'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create('not a url'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create('https://user:pass@example.com/hook'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create(`${receiverUrl}/x`, []))).toBe('BAD_USER_INPUT');
  });

  it("lists the event types endpoints may subscribe to, as the modules' catalogs expose them, to signed-in users", async () => {
    const EVENT_TYPES = `{ webhookEventTypes { name type description } }`;
    const data = await ok(api.gql(EVENT_TYPES, {}, { token: owner.accessToken }));
    expect(data.webhookEventTypes).toEqual(
      eventTypes.webhookTypes.map((type) => ({
        name: eventTypeName(type),
        type,
        description: eventTypes.get(type)!.description,
      })),
    );
    expect(data.webhookEventTypes).toContainEqual(
      expect.objectContaining({ name: 'TASK_ASSIGNED', type: 'task.assigned' }),
    );
    expect(codeOf(await api.gql(EVENT_TYPES, {}))).toBe('UNAUTHENTICATED');
  });

  it('deletes an endpoint with its deliveries', async () => {
    const { organization, project, endpoint } = await setUp();
    const { eventId } = await createTask(project.id);
    await deliveryFor(organization.id, endpoint.id, eventId, 'SUCCEEDED');
    expect(
      await ok(
        api.gql(
          `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`,
          { id: endpoint.id },
          { token: owner.accessToken },
        ),
      ),
    ).toEqual({ deleteWebhookEndpoint: true });
    expect(
      await api.app.dataSource.query('SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1', [endpoint.id]),
    ).toEqual([]);
    expect(
      codeOf(
        await api.gql(
          `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`,
          { id: endpoint.id },
          { token: owner.accessToken },
        ),
      ),
    ).toBe('NOT_FOUND');
  });
});

describe('webhook delivery', () => {
  it('POSTs a signed Standard Webhooks request that the exported verify function accepts', async () => {
    const { organization, project, endpoint, secret } = await setUp();
    const { taskId, eventId, requestId } = await createTask(project.id, 'Signed');
    const [request] = await waitFor(
      () => (receiver.forEvent(eventId).length > 0 ? receiver.forEvent(eventId) : undefined),
      'the delivery',
    );

    expect(request.path).toBe('/hooks');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe(eventId);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const headers = {
      'webhook-id': eventId,
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    };
    expect(verifyWebhookSignature(secret, headers, request.body)).toBe(true);
    expect(verifyWebhookSignature(secret, headers, request.body.replace('Signed', 'Forged'))).toBe(false);
    expect(verifyWebhookSignature('whsec_' + Buffer.alloc(32, 1).toString('base64'), headers, request.body)).toBe(
      false,
    );
    expect(verifyWebhookSignature(secret, headers, request.body, { now: new Date(Date.now() + 3600_000) })).toBe(false);

    expect(JSON.parse(request.body)).toEqual({
      type: 'task.created',
      timestamp: expect.any(String),
      data: expect.objectContaining({
        id: eventId,
        organizationId: organization.id,
        actorId: owner.user.id,
        requestId,
        subject: { type: 'task', id: taskId },
        title: 'Signed',
        projectId: project.id,
      }),
    });
    const delivery = await deliveryFor(organization.id, endpoint.id, eventId, 'SUCCEEDED');
    expect(delivery).toMatchObject({
      eventType: 'task.created',
      attempts: 1,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it('retries after a 500 and after a timeout, with the same webhook-id, then succeeds', async () => {
    const { organization, project, endpoint } = await setUp([...['task.created']], '/flaky');
    receiver.reply = (request, attempt) => {
      if (request.path !== '/flaky') return { status: 200 };
      if (attempt === 1) return { status: 500 };
      if (attempt === 2) return 'hang';
      return { status: 204 };
    };
    try {
      const { eventId } = await createTask(project.id);
      const delivery = await deliveryFor(organization.id, endpoint.id, eventId, 'SUCCEEDED');
      expect(delivery).toMatchObject({ attempts: 3, lastResponseStatus: 204, lastError: null });
      const attempts = receiver.forEvent(eventId);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);
      // The schedule says 1 s (±10%) between attempts; the timeout adds its half second.
      expect(attempts[1].receivedAt - attempts[0].receivedAt).toBeGreaterThanOrEqual(850);
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('marks a delivery FAILED after the last attempt, and redeliverWebhook sends it again', async () => {
    const { organization, project, endpoint } = await setUp(['task.created'], '/down');
    receiver.reply = (request) => (request.path === '/down' ? { status: 503 } : { status: 200 });
    try {
      const { eventId } = await createTask(project.id);
      const failed = await deliveryFor(organization.id, endpoint.id, eventId, 'FAILED');
      expect(failed).toMatchObject({
        attempts: 3,
        lastResponseStatus: 503,
        lastError: 'HTTP 503',
        nextAttemptAt: null,
      });
      expect(receiver.forEvent(eventId)).toHaveLength(3);

      receiver.reply = () => ({ status: 200 });
      const redelivered = await ok(api.gql(REDELIVER, { id: failed.id }, { token: owner.accessToken }));
      expect(redelivered.redeliverWebhook).toMatchObject({ id: failed.id, status: 'PENDING' });
      expect(await deliveryFor(organization.id, endpoint.id, eventId, 'SUCCEEDED')).toMatchObject({
        attempts: 4,
        lastResponseStatus: 200,
      });
      expect(receiver.forEvent(eventId)).toHaveLength(4);
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('treats a redirect as a failure and never follows it', async () => {
    const { organization, project, endpoint } = await setUp(['task.created'], '/moved');
    receiver.reply = (request) =>
      request.path === '/moved' ? { status: 302, headers: { location: `${receiverUrl}/elsewhere` } } : { status: 200 };
    try {
      const { eventId } = await createTask(project.id);
      const failed = await deliveryFor(organization.id, endpoint.id, eventId, 'FAILED');
      expect(failed).toMatchObject({ lastResponseStatus: 302, lastError: expect.stringContaining('not followed') });
      expect(receiver.received.filter((request) => request.path === '/elsewhere')).toEqual([]);
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('disables the endpoint when the receiver answers 410 Gone', async () => {
    const { organization, project, endpoint } = await setUp(['task.created'], '/gone');
    receiver.reply = (request) => (request.path === '/gone' ? { status: 410 } : { status: 200 });
    try {
      const { eventId } = await createTask(project.id);
      await deliveryFor(organization.id, endpoint.id, eventId, 'FAILED');
      expect(receiver.forEvent(eventId)).toHaveLength(1);
      const listed = await ok(
        api.gql(
          `query($id: ID!) { webhookEndpoints(organizationId: $id) { active } }`,
          { id: organization.id },
          { token: owner.accessToken },
        ),
      );
      expect(listed.webhookEndpoints).toEqual([{ active: false }]);
      const later = await createTask(project.id);
      await eventsHandled(api);
      expect(
        await api.app.dataSource.query('SELECT 1 FROM webhook_deliveries WHERE event_id = $1', [later.eventId]),
      ).toEqual([]);
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('sends only the event types the endpoint asked for', async () => {
    const { organization, project, endpoint } = await setUp(['comment.added']);
    await createTask(project.id);
    await eventsHandled(api);
    expect(await deliveriesOf(organization.id, endpoint.id)).toEqual([]);
  });
});

describe('the SSRF guard', () => {
  it('refuses private, loopback, link-local, CGNAT and metadata addresses in every spelling', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      'fc00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:ffff:a9fe:a9fe',
      '64:ff9b::7f00:1',
      'not-an-ip',
    ]) {
      expect([address, isForbiddenAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      expect([address, isForbiddenAddress(address)]).toEqual([address, false]);
  });

  describe('without WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
    let strict: TestApp;
    let admin: Session;

    beforeAll(async () => {
      strict = await startTestApp({ ...WEBHOOK_TEST_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
      admin = await signUp(strict);
    });

    afterAll(async () => {
      await strict?.stop();
    });

    it('refuses to register an endpoint on 127.0.0.1, localhost, metadata or numeric spellings (BAD_USER_INPUT)', async () => {
      const organization = await createOrganization(strict, admin);
      for (const url of [
        `${receiverUrl}/hook`,
        'http://localhost/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://2130706433/hook',
        'https://0x7f.1/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://[::1]/hook',
        'https://10.0.0.8/hook',
      ]) {
        const response = await strict.gql(
          CREATE_ENDPOINT,
          { input: { organizationId: organization.id, url, eventTypes: ['task.created'] } },
          { token: admin.accessToken },
        );
        expect([url, response.body.errors?.[0]?.extensions.code]).toEqual([url, 'BAD_USER_INPUT']);
        expect(response.body.errors![0].message).toMatch(/url/);
      }
      expect(await strict.app.dataSource.query('SELECT 1 FROM webhook_endpoints')).toEqual([]);
    });

    it('checks the address it connects to at delivery time, so a name that now resolves to a private address is refused', async () => {
      const organization = await createOrganization(strict, admin);
      const project = await createProject(strict, admin, organization.id);
      // As if "localhost" had resolved to a public address when it was registered (DNS rebinding).
      const sealed = SecretBox.fromConfig(strict.config).seal('whsec_' + Buffer.alloc(32, 7).toString('base64'));
      const port = new URL(receiverUrl).port;
      await strict.app.dataSource.query(
        `INSERT INTO webhook_endpoints (organization_id, url, event_types, secret_sealed, created_by_id) VALUES ($1, $2, '{task.created}', $3, $4)`,
        [organization.id, `http://localhost:${port}/rebound`, sealed, admin.user.id],
      );
      await ok(
        strict.gql(CREATE_TASK, { input: { projectId: project.id, title: 'Rebound' } }, { token: admin.accessToken }),
      );
      const [row] = await waitFor(async () => {
        const rows = (await strict.app.dataSource.query(
          `SELECT attempts, last_error FROM webhook_deliveries WHERE organization_id = $1 AND attempts > 0`,
          [organization.id],
        )) as {
          attempts: number;
          last_error: string;
        }[];
        return rows.length > 0 ? rows : undefined;
      }, 'the refused attempt');
      expect(row.last_error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a private or reserved address/);
      expect(receiver.received.filter((request) => request.path === '/rebound')).toEqual([]);
    });
  });
});

(usingPostgres ? describe.each : describe.skip.each)(['inline', ...(redisUrl ? ['redis-streams'] : [])])(
  'two %s instances on one database',
  (transport) => {
    const instances: TestApp[] = [];
    let database: TestDatabase;
    let cleanup: () => Promise<void> = async () => undefined;

    beforeAll(async () => {
      database = await createTestDatabase();
      let env: Record<string, string> = { EVENTS_TRANSPORT: 'inline' };
      if (transport === 'redis-streams') {
        const redis = redisStreamsEnv(redisUrl!);
        env = redis.env;
        cleanup = redis.cleanup;
      }
      // One deployment: the instances share their secret (tokens and sealed webhook secrets work on both).
      const shared = { ...WEBHOOK_TEST_ENV, ...env, JWT_SECRET: randomBytes(32).toString('base64url') };
      for (let index = 0; index < 2; index += 1) instances.push(await startTestApp(shared, database));
    });

    afterAll(async () => {
      for (const instance of instances) await instance.stop();
      await database?.drop();
      await cleanup();
    });

    it('deliver each event once per endpoint', async () => {
      const [first, second] = instances;
      const admin = await signUp(first);
      const organization = await createOrganization(first, admin);
      const url = (path: string) => `${receiverUrl}${path}-${transport}`;
      for (const path of ['/one', '/two']) {
        await ok(
          first.gql(
            CREATE_ENDPOINT,
            { input: { organizationId: organization.id, url: url(path), eventTypes: ['task.created'] } },
            { token: admin.accessToken },
          ),
        );
      }
      const project = await createProject(first, admin, organization.id);
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          ok(
            (index % 2 ? first : second).gql(
              CREATE_TASK,
              { input: { projectId: project.id, title: `Task ${index}` } },
              { token: admin.accessToken },
            ),
          ),
        ),
      );
      const received = (path: string) =>
        receiver.received.filter((request) => request.path === new URL(url(path)).pathname);
      await waitFor(() => received('/one').length === 20 && received('/two').length === 20, 'all 40 deliveries');
      // Every delivery settled: the senders are done with them, so a duplicate has arrived by now, or never will.
      await waitFor(async () => {
        const [row] = (await first.app.dataSource.query(
          `SELECT count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS settled, count(*)::int AS total FROM webhook_deliveries WHERE organization_id = $1`,
          [organization.id],
        )) as [{ settled: number; total: number }];
        return row.total === 40 && row.settled === 40;
      }, 'all 40 deliveries to be settled');
      for (const path of ['/one', '/two']) {
        const ids = received(path).map((request) => request.headers['webhook-id']);
        expect(ids).toHaveLength(20);
        expect(new Set(ids).size).toBe(20);
      }
    });
  },
);
