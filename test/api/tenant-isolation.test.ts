import 'reflect-metadata';
import { getNamedType, isInputObjectType, type GraphQLArgument, type GraphQLInputType } from 'graphql';
import { buildApiSchema } from '../../src/app';
import { addMember, createOrganization, invitationTokenFor, INVITE, ok, type Session } from '../support/organizations';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { eventsHandled, waitFor } from '../support/wait';

/**
 * Every operation that reaches organization-owned data, called for a resource
 * of organization A by a member of organization B and by an anonymous client.
 * Each must refuse (NOT_FOUND, never leaking existence; FORBIDDEN where a
 * capability token is not the caller's) and change nothing in the database.
 * A module that adds such an operation adds its row here; the schema test
 * below fails until it does.
 */
interface TenantA {
  organizationId: string;
  memberMembershipId: string;
  invitationToken: string;
  projectId: string;
  taskId: string;
  webhookEndpointId: string;
  webhookDeliveryId: string;
}

interface IsolationCase {
  operation: string;
  document: string;
  variables(a: TenantA): Record<string, unknown>;
  /** What a member of another organization gets; anonymous clients always get UNAUTHENTICATED. */
  outsider: 'NOT_FOUND' | 'FORBIDDEN';
}

const CASES: IsolationCase[] = [
  {
    operation: 'organization',
    document: 'query($id: ID!) { organization(id: $id) { id name } }',
    variables: (a) => ({ id: a.organizationId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'inviteMember',
    document: 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }',
    variables: (a) => ({ input: { organizationId: a.organizationId, email: 'intruder@example.com', role: 'OWNER' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'changeMemberRole',
    document: 'mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id } }',
    variables: (a) => ({ input: { membershipId: a.memberMembershipId, role: 'OWNER' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'removeMember',
    document: 'mutation($id: ID!) { removeMember(membershipId: $id) }',
    variables: (a) => ({ id: a.memberMembershipId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'acceptInvitation',
    document: 'mutation($token: String!) { acceptInvitation(token: $token) { id } }',
    variables: (a) => ({ token: a.invitationToken }),
    outsider: 'FORBIDDEN',
  },
  {
    operation: 'project',
    document: 'query($id: ID!) { project(id: $id) { id } }',
    variables: (a) => ({ id: a.projectId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'projects',
    document: 'query($id: ID!) { projects(organizationId: $id) { totalCount } }',
    variables: (a) => ({ id: a.organizationId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'task',
    document: 'query($id: ID!) { task(id: $id) { id } }',
    variables: (a) => ({ id: a.taskId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'createProject',
    document: 'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
    variables: (a) => ({ input: { organizationId: a.organizationId, name: 'Intruder' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'updateProject',
    document: 'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }',
    variables: (a) => ({ input: { id: a.projectId, name: 'Renamed' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'archiveProject',
    document: 'mutation($id: ID!) { archiveProject(id: $id) { id } }',
    variables: (a) => ({ id: a.projectId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'createTask',
    document: 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
    variables: (a) => ({ input: { projectId: a.projectId, title: 'Intruder' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'updateTask',
    document: 'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }',
    variables: (a) => ({ input: { id: a.taskId, title: 'Changed' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'deleteTask',
    document: 'mutation($id: ID!) { deleteTask(id: $id) }',
    variables: (a) => ({ id: a.taskId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'addComment',
    document: 'mutation($input: AddCommentInput!) { addComment(input: $input) { id } }',
    variables: (a) => ({ input: { taskId: a.taskId, body: 'Intruder' } }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'auditEvents',
    document: 'query($id: ID!) { auditEvents(organizationId: $id) { totalCount } }',
    variables: (a) => ({ id: a.organizationId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'webhookEndpoints',
    document: 'query($id: ID!) { webhookEndpoints(organizationId: $id) { id } }',
    variables: (a) => ({ id: a.organizationId }),
    outsider: 'NOT_FOUND',
  },
  {
    operation: 'createWebhookEndpoint',
    document: 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }',
    variables: (a) => ({ input: { organizationId: a.organizationId, url: 'https://example.com/hook', eventTypes: ['task.created'] } }),
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
];

/** Operations that take an ID but reach nothing organization-owned, each with the reason. */
const NOT_ORGANIZATION_SCOPED: Record<string, string> = {
  markNotificationsRead: "the viewer's own notifications only; others' ids are ignored (test/api/notifications.test.ts)",
};

let api: TestApp;
let tenantA: TenantA;
let outsider: Session;

beforeAll(async () => {
  // The webhook points at a closed local port and fails once for good, so nothing changes in the background afterwards.
  api = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_HTTP_HOSTS: '127.0.0.1', WEBHOOK_MAX_ATTEMPTS: '1' });
  const ownerA = await signUp(api);
  const organization = await createOrganization(api, ownerA, 'Tenant A');
  const endpoint = await ok(
    api.gql(
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
      { input: { organizationId: organization.id, url: 'http://127.0.0.1:9/hook', eventTypes: ['task.created'] } },
      { token: ownerA.accessToken },
    ),
  );
  const member = await addMember(api, ownerA, organization.id, 'MEMBER');
  const invitedEmail = uniqueEmail('pending');
  await ok(api.gql(INVITE, { input: { organizationId: organization.id, email: invitedEmail } }, { token: ownerA.accessToken }));
  const project = await ok(
    api.gql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { organizationId: organization.id, name: 'A' } }, {
      token: ownerA.accessToken,
    }),
  );
  const task = await ok(
    api.gql('mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }', { input: { projectId: project.createProject.id, title: 'A task' } }, {
      token: ownerA.accessToken,
    }),
  );
  tenantA = {
    organizationId: organization.id,
    memberMembershipId: member.membershipId,
    invitationToken: await invitationTokenFor(api, invitedEmail),
    projectId: project.createProject.id,
    taskId: task.createTask.id,
    webhookEndpointId: endpoint.createWebhookEndpoint.endpoint.id,
    webhookDeliveryId: await waitFor(async () => {
      const [row] = (await api.app.dataSource.query(`SELECT id FROM webhook_deliveries WHERE status = 'FAILED'`)) as { id: string }[];
      return row?.id;
    }, 'the webhook delivery to fail for good'),
  };

  outsider = await signUp(api);
  await createOrganization(api, outsider, 'Tenant B');
  // Every event handled, so the consumers write nothing while the tests compare fingerprints.
  await eventsHandled(api);
});

afterAll(async () => {
  await api?.stop();
});

/** A fingerprint of every row of every table, to prove a refused call changed nothing. */
async function databaseFingerprint(): Promise<Record<string, string>> {
  const tables = (await api.app.dataSource.query(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY table_name`,
  )) as { table_name: string }[];
  const fingerprint: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const [row] = (await api.app.dataSource.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM "${table}" t`,
    )) as { n: number; hash: string }[];
    fingerprint[table] = `${row.n}:${row.hash}`;
  }
  return fingerprint;
}

describe.each(CASES)('$operation on organization A', (testCase) => {
  it(`refuses a member of organization B with ${testCase.outsider} and changes nothing`, async () => {
    const before = await databaseFingerprint();
    const response = await api.gql(testCase.document, testCase.variables(tenantA), { token: outsider.accessToken });
    expect(response.body.errors?.map((error) => error.extensions.code)).toEqual([testCase.outsider]);
    expect(response.body.data?.[testCase.operation] ?? null).toBeNull();
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('refuses an anonymous client with UNAUTHENTICATED and changes nothing', async () => {
    const before = await databaseFingerprint();
    const response = await api.gql(testCase.document, testCase.variables(tenantA));
    expect(response.body.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(await databaseFingerprint()).toEqual(before);
  });
});

describe('the isolation table', () => {
  function takesAnId(type: GraphQLInputType, seen = new Set<string>()): boolean {
    const named = getNamedType(type);
    if (named.name === 'ID') return true;
    if (!isInputObjectType(named) || seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((field) => takesAnId(field.type, seen));
  }

  it('covers every query and mutation that takes an id', async () => {
    const schema = await buildApiSchema();
    const roots = [schema.getQueryType()!, schema.getMutationType()!];
    const takingIds = roots.flatMap((root) =>
      Object.values(root.getFields())
        .filter((field) => field.args.some((arg: GraphQLArgument) => takesAnId(arg.type)))
        .map((field) => field.name),
    );
    const covered = new Set([...CASES.map((testCase) => testCase.operation), ...Object.keys(NOT_ORGANIZATION_SCOPED)]);
    const missing = takingIds.filter((name) => !covered.has(name));
    if (missing.length > 0) {
      throw new Error(`Add these operations to CASES in test/api/tenant-isolation.test.ts (or to NOT_ORGANIZATION_SCOPED with a reason): ${missing.join(', ')}`);
    }
  });

  it('lists only operations the schema has', async () => {
    const schema = await buildApiSchema();
    const names = new Set([...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())]);
    expect(CASES.map((testCase) => testCase.operation).filter((name) => !names.has(name))).toEqual([]);
  });
});
