import { trace } from '@opentelemetry/api';
import { tracingEnabled } from '../../src/platform/telemetry/spans';
import { FAST_EVENTS } from '../support/events';
import { createOrganization, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;

let api: TestApp;
let hooks: WebhookReceiver;
let hooksUrl: string;
let owner: Session;

beforeAll(async () => {
  hooks = new WebhookReceiver();
  hooksUrl = await hooks.start();
  api = await startTestApp({
    ...FAST_EVENTS,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_HTTP_HOSTS: '127.0.0.1',
    WEBHOOK_POLL_INTERVAL_MS: '100',
  });
  owner = await signUp(api);
});

afterAll(async () => {
  await api?.stop();
  await hooks?.stop();
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT (the default)', () => {
  it('registers nothing: no spans, no trace on events or deliveries, no traceparent on webhooks, no ids in logs', async () => {
    expect(api.config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);

    const organization = await createOrganization(api, owner);
    await ok(
      api.gql(
        CREATE_ENDPOINT,
        { input: { organizationId: organization.id, url: `${hooksUrl}/off`, eventTypes: ['comment.added'] } },
        { token: owner.accessToken },
      ),
    );
    const project = await createProject(api, owner, organization.id);
    const task = await createTask(api, owner, project.id);
    const requestId = 'traces-off-comment';
    await ok(
      api.gql(
        ADD_COMMENT,
        { input: { taskId: task.id, body: 'untraced' } },
        {
          token: owner.accessToken,
          // An incoming trace is not continued either: nothing reads it.
          headers: { 'x-request-id': requestId, traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        },
      ),
    );

    const [event] = (await api.app.dataSource.query(
      `SELECT id, trace_parent AS "traceparent" FROM outbox WHERE request_id = $1 AND type = 'comment.added'`,
      [requestId],
    )) as { id: string; traceparent: string | null }[];
    expect(event.traceparent).toBeNull();
    const [received] = await waitFor(() => {
      const found = hooks.forEvent(event.id);
      return found.length > 0 ? found : undefined;
    }, 'the webhook');
    expect(received.headers.traceparent).toBeUndefined();
    expect(Object.keys(received.headers).filter((name) => /trace/i.test(name))).toEqual([]);
    const deliveries = (await api.app.dataSource.query(
      `SELECT trace_parent AS "traceparent" FROM webhook_deliveries WHERE event_id = $1`,
      [event.id],
    )) as { traceparent: string | null }[];
    expect(deliveries).toEqual([{ traceparent: null }]);

    expect(api.logs.find('graphql operation').filter((line) => line.requestId === requestId)).toHaveLength(1);
    expect(api.logs.entries.filter((line) => 'trace_id' in line || 'span_id' in line)).toEqual([]);
  });
});
