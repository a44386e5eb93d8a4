import { isolationCases } from '../../support/isolation';
import { ok } from '../../support/organizations';
import { eventsHandled, waitFor } from '../../support/wait';

/** The webhooks module's rows of the tenant-isolation suite: an endpoint of A and a delivery to it that failed for good. */
export const isolation = isolationCases({
  // The endpoint points at a closed local port and fails once for good, so nothing changes in the background afterwards.
  env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_HTTP_HOSTS: '127.0.0.1', WEBHOOK_MAX_ATTEMPTS: '1' },
  async seed({ api, owner, organizationId }) {
    // Events of the other seeds are fanned out before the endpoint exists: its one delivery is for the task below.
    await eventsHandled(api);
    const token = owner.accessToken;
    const endpoint = await ok<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
      api.gql(
        'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
        { input: { organizationId, url: 'http://127.0.0.1:9/hook', eventTypes: ['task.created'] } },
        { token },
      ),
    );
    const project = await ok<{ createProject: { id: string } }>(
      api.gql(
        'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
        { input: { organizationId, name: 'Hooked' } },
        { token },
      ),
    );
    await ok(
      api.gql(
        'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
        { input: { projectId: project.createProject.id, title: 'Hooked' } },
        { token },
      ),
    );
    return {
      webhookEndpointId: endpoint.createWebhookEndpoint.endpoint.id,
      webhookDeliveryId: await waitFor(async () => {
        const [row] = (await api.app.dataSource.query(`SELECT id FROM webhook_deliveries WHERE status = 'FAILED'`)) as {
          id: string;
        }[];
        return row?.id;
      }, 'the webhook delivery to fail for good'),
    };
  },
  async settle({ api }) {
    await waitFor(async () => {
      const [row] = (await api.app.dataSource.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'PENDING'`,
      )) as { n: number }[];
      return row.n === 0;
    }, 'no webhook delivery to be pending');
  },
  cases: [
    {
      operation: 'webhookEndpoints',
      document: 'query($id: ID!) { webhookEndpoints(organizationId: $id) { id } }',
      variables: (a) => ({ id: a.organizationId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'createWebhookEndpoint',
      document: 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }',
      variables: (a) => ({
        input: { organizationId: a.organizationId, url: 'https://example.com/hook', eventTypes: ['task.created'] },
      }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'deleteWebhookEndpoint',
      document: 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }',
      variables: (a) => ({ id: a.webhookEndpointId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'redeliverWebhook',
      document: 'mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }',
      variables: (a) => ({ id: a.webhookDeliveryId }),
      outsider: 'NOT_FOUND',
    },
  ],
});
