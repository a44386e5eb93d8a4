import { randomBytes } from 'node:crypto';
import { OtlpReceiver, type ReceivedSpan } from '../../scripts/otlp-receiver';
import { spawnApp, type AppProcess } from '../support/child-process';
import { FAST_EVENTS, redisStreamsEnv, redisUrl } from '../support/events';
import { CREATE_ORGANIZATION } from '../support/organizations';
import { ADD_COMMENT, CREATE_PROJECT, CREATE_TASK } from '../support/projects';
import { SIGN_UP, uniqueEmail } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Traces end to end, in child processes running src/main.ts with
 * OTEL_EXPORTER_OTLP_ENDPOINT set to a real OTLP/HTTP receiver: the pg
 * instrumentation patches `pg` through Node's require, which jest's module
 * registry bypasses (an in-process app would have no SQL spans). On
 * PostgreSQL with TEST_REDIS_URL: two instances on Redis Streams, and the
 * event's handler runs on the other one.
 */
const twoInstances = usingPostgres && Boolean(redisUrl);

const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
const ADD_COMMENT_NAMED = ADD_COMMENT.replace('mutation(', 'mutation AddComment(');

let otlp: OtlpReceiver;
let hooks: WebhookReceiver;
let hooksUrl: string;
let database: TestDatabase;
let streams: ReturnType<typeof redisStreamsEnv> | undefined;
const instances: AppProcess[] = [];

async function post(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  options: { token?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, any>;
    errors?: unknown[];
    extensions?: { cost?: { requested: number } };
  };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Object.assign(body.data!, { cost: body.extensions?.cost?.requested });
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The span's ancestors within its trace, nearest first. */
function ancestry(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let parent = span.parentSpanId; parent;) {
    const found = spans.find((candidate) => candidate.spanId === parent);
    if (!found) break;
    chain.push(found);
    parent = found.parentSpanId;
  }
  return chain;
}

function logLines(app: AppProcess): Record<string, unknown>[] {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  otlp = new OtlpReceiver();
  hooks = new WebhookReceiver();
  const [endpoint, hooksOrigin] = await Promise.all([otlp.start(), hooks.start()]);
  hooksUrl = hooksOrigin;
  database = await createTestDatabase();
  streams = twoInstances ? redisStreamsEnv(redisUrl!) : undefined;
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'debug',
    PASSWORD_HASH_COST: '10',
    JWT_SECRET: hex(32),
    // One deployment: either instance opens the endpoint secrets the other sealed.
    DATA_ENCRYPTION_KEYS: `test:${randomBytes(32).toString('base64')}`,
    ...FAST_EVENTS,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_HTTP_HOSTS: '127.0.0.1',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    ...database.env,
    ...streams?.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  };
  instances.push(spawnApp({ ...env, OTEL_SERVICE_NAME: 'groundwork-a' }));
  if (twoInstances) instances.push(spawnApp({ ...env, OTEL_SERVICE_NAME: 'groundwork-b' }));
  await Promise.all(instances.map((instance) => instance.ready));
});

afterAll(async () => {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((instance) => instance.exited));
  await streams?.cleanup();
  await database?.drop();
  await hooks?.stop();
  await otlp?.stop();
});

describe('traces', () => {
  it('follow one addComment from the request through SQL, the outbox, the audit handler and the webhook attempt', async () => {
    const url = await instances[0].ready;
    const { signUp } = await post(url, SIGN_UP, {
      input: { email: uniqueEmail('tracer'), password: 'correct horse battery', name: 'Tracer' },
    });
    const token = signUp.accessToken as string;
    const { createOrganization } = await post(url, CREATE_ORGANIZATION, { input: { name: 'Traced' } }, { token });
    await post(
      url,
      CREATE_ENDPOINT,
      {
        input: { organizationId: createOrganization.id, url: `${hooksUrl}/hooks`, eventTypes: ['comment.added'] },
      },
      { token },
    );
    const { createProject } = await post(
      url,
      CREATE_PROJECT,
      { input: { organizationId: createOrganization.id, name: 'P' } },
      { token },
    );
    const { createTask } = await post(
      url,
      CREATE_TASK,
      { input: { projectId: createProject.id, title: 'T' } },
      { token },
    );

    // With two instances either may run the handler; comment until the other one did (each try is a trace of its own).
    for (let attempt = 1; ; attempt += 1) {
      const traceId = hex(16);
      const callerSpanId = hex(8);
      const requestId = `traced-${traceId.slice(0, 8)}`;
      const { cost } = await post(
        url,
        ADD_COMMENT_NAMED,
        { input: { taskId: createTask.id, body: 'traced' } },
        { token, headers: { traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-request-id': requestId } },
      );
      expect(cost).toBeGreaterThan(0);
      // Each instance exports its spans in batches of its own, so the request's span (ended after the response went
      // out) may arrive after the handler's: wait for every span read below.
      const expected = [
        'POST /graphql',
        'mutation AddComment',
        'outbox write comment.added',
        'audit handle comment.added',
        'webhook delivery attempt',
        ...(twoInstances ? ['redis publish comment.added'] : []),
      ];
      const spans = await waitFor(() => {
        const found = otlp.trace(traceId);
        return expected.every((name) => found.some((span) => span.name === name)) ? found : undefined;
      }, 'the trace to reach the webhook attempt');

      // The request: a child of the caller's span, with one operation span (name and cost) and its SQL.
      const request = spans.find((span) => span.name === 'POST /graphql')!;
      expect(request).toMatchObject({ parentSpanId: callerSpanId, service: 'groundwork-a' });
      expect(request.attributes).toMatchObject({
        'groundwork.request_id': requestId,
        'http.response.status_code': 200,
      });
      const operations = spans.filter((span) => span.attributes['graphql.operation.type']);
      expect(operations).toEqual([
        expect.objectContaining({
          name: 'mutation AddComment',
          parentSpanId: request.spanId,
          attributes: expect.objectContaining({
            'graphql.operation.name': 'AddComment',
            'groundwork.graphql.cost': cost,
          }),
        }),
      ]);
      const sql = spans.filter(
        (span) => span.attributes['db.system.name'] === 'postgresql' || span.attributes['db.system'] === 'postgresql',
      );
      expect(sql.filter((span) => span.parentSpanId === request.spanId).length).toBeGreaterThan(0);

      // The outbox write, inside the request, with its INSERT as a child.
      const outbox = spans.find((span) => span.name === 'outbox write comment.added')!;
      expect(ancestry(outbox, spans)).toContain(request);
      expect(sql.some((span) => span.parentSpanId === outbox.spanId)).toBe(true);

      // The audit handler continues the trace from the outbox (through the Redis hand-off with two instances), with its SQL.
      const audit = spans.find((span) => span.name === 'audit handle comment.added')!;
      const auditAncestry = ancestry(audit, spans);
      expect(auditAncestry).toContain(outbox);
      if (twoInstances) expect(auditAncestry[0].name).toBe('redis publish comment.added');
      expect(sql.some((span) => span.parentSpanId === audit.spanId)).toBe(true);

      // The webhook attempt, in the same trace, and its POST carries it.
      const delivery = spans.find((span) => span.name === 'webhook delivery attempt')!;
      expect(ancestry(delivery, spans)).toContain(outbox);
      expect({ status: delivery.attributes['http.response.status_code'], error: delivery.status.message }).toEqual({
        status: 200,
        error: undefined,
      });
      const [received] = hooks.received.filter((hook) => String(hook.headers.traceparent).includes(traceId));
      expect(received.headers.traceparent).toBe(`00-${traceId}-${delivery.spanId}-01`);

      // Log lines written inside a span carry its ids beside the request id.
      const operationLine = logLines(instances[0]).find(
        (line) => line.message === 'graphql operation' && line.requestId === requestId,
      );
      expect(operationLine).toMatchObject({ trace_id: traceId, span_id: request.spanId });
      const handlerInstance = instances.find((_, index) => `groundwork-${'ab'[index]}` === audit.service)!;
      await waitFor(
        () =>
          logLines(handlerInstance).find(
            (line) => line.consumer === 'audit' && line.requestId === requestId && line.trace_id === traceId,
          ),
        'the audit handler to log inside its span',
      ).then((line) => expect(line.span_id).toBe(audit.spanId));

      if (!twoInstances || audit.service === 'groundwork-b') break;
      if (attempt >= 20) throw new Error('the other instance never handled a comment');
    }
  });
});
