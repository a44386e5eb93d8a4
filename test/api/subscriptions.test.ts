import WebSocket from 'ws';
import { addMember, createOrganization, ok, REMOVE, type Session } from '../support/organizations';
import { createProject, createTask, ADD_COMMENT } from '../support/projects';
import { liveClient, type LiveClient, type LiveSubscription } from '../support/live-client';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

const TASK_CHANGED = `subscription($projectId: ID!) {
  taskChanged(projectId: $projectId) { kind eventId taskId projectId changes actor { id } task { id title assignee { id } } comment { body } }
}`;
const NOTIFICATION_ADDED = `subscription { notificationAdded { id type message readAt task { id } } }`;
const AUDIT_EVENT_ADDED = `subscription($organizationId: ID!) { auditEventAdded(organizationId: $organizationId) { id type summary actor { id } } }`;
const ASSIGN = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id version } }`;

describe('subscriptions over WebSocket, one instance', () => {
  let api: TestApp;
  let owner: Session;
  let member: Session;
  let organizationId: string;
  let projectId: string;
  const clients: LiveClient[] = [];

  const open = (token?: string) => {
    const client = liveClient(api.baseUrl, token);
    clients.push(client);
    return client;
  };
  /** Waits until the instance has `count` subscriptions open: the server registered them, events now reach them. */
  const subscriptionsOpen = (count: number) => waitFor(() => api.app.live.size === count, `${count} subscriptions`);

  beforeAll(async () => {
    api = await startTestApp({ LIVE_MAX_CONNECTIONS_PER_USER: '3', LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3' });
    owner = await signUp(api);
    organizationId = (await createOrganization(api, owner)).id;
    member = await addMember(api, owner, organizationId, 'MEMBER');
    projectId = (await createProject(api, owner, organizationId)).id;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    await waitFor(() => api.app.live.size === 0, 'every subscription to end');
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('delivers task changes of the project with what changed, and the assignee their notification', async () => {
    const watcher = open(owner.accessToken);
    const assignee = open(member.accessToken);
    const changes = watcher.subscribe(TASK_CHANGED, { projectId });
    const notifications = assignee.subscribe(NOTIFICATION_ADDED);
    await subscriptionsOpen(2);

    const task = await createTask(api, owner, projectId, { title: 'Live' });
    await ok(
      api.gql(
        ASSIGN,
        { input: { id: task.id, expectedVersion: task.version, assigneeId: member.user.id } },
        { token: owner.accessToken },
      ),
    );
    await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'hello' } }, { token: member.accessToken }));

    await waitFor(() => changes.results.length >= 4, 'created, updated, assigned and commented');
    const kinds = changes.results.map((result) => result.data!.taskChanged.kind);
    expect(kinds).toEqual(['CREATED', 'UPDATED', 'ASSIGNED', 'COMMENTED']);
    const assigned = changes.results[2].data!.taskChanged;
    expect(assigned).toMatchObject({
      taskId: task.id,
      projectId,
      changes: { assigneeId: { from: null, to: member.user.id } },
      actor: { id: owner.user.id },
      task: { id: task.id, title: 'Live', assignee: { id: member.user.id } },
    });
    expect(changes.results[3].data!.taskChanged).toMatchObject({
      comment: { body: 'hello' },
      actor: { id: member.user.id },
    });

    await waitFor(() => notifications.results.length >= 1, 'the notification of the assignment');
    expect(notifications.results[0].data!.notificationAdded).toMatchObject({
      type: 'task.assigned',
      message: 'You were assigned the task "Live"',
      readAt: null,
      task: { id: task.id },
    });
    // The notification is the one the query lists.
    const listed = await ok(
      api.gql(`{ notifications(first: 5) { edges { node { id } } } }`, {}, { token: member.accessToken }),
    );
    expect(listed.notifications.edges.map((edge: { node: { id: string } }) => edge.node.id)).toContain(
      notifications.results[0].data!.notificationAdded.id,
    );
  });

  it("never delivers another organization's events", async () => {
    const outsider = await signUp(api);
    const otherOrganization = (await createOrganization(api, outsider, 'Other')).id;
    const otherProject = (await createProject(api, outsider, otherOrganization)).id;
    const spy = open(outsider.accessToken);
    const audit = spy.subscribe(AUDIT_EVENT_ADDED, { organizationId: otherOrganization });
    const tasks = spy.subscribe(TASK_CHANGED, { projectId: otherProject });
    const notifications = spy.subscribe(NOTIFICATION_ADDED);
    await subscriptionsOpen(3);

    // Our organization's events first, then a sentinel of theirs: the feed keeps order, so theirs arriving first proves ours never came.
    const ours = await createTask(api, owner, projectId, { title: 'Ours', assigneeId: member.user.id });
    const sentinel = await createTask(api, outsider, otherProject, { title: 'Theirs' });
    const auditedTypes = () => audit.results.map((result) => result.data!.auditEventAdded.type as string);
    await waitFor(() => tasks.results.length >= 1 && auditedTypes().includes('task.created'), 'their own events');
    expect(tasks.results.map((result) => result.data!.taskChanged.taskId)).toEqual([sentinel.id]);
    // Their project's creation may still have been on its way when they subscribed: every entry is theirs.
    for (const result of audit.results) expect(result.data!.auditEventAdded.actor).toEqual({ id: outsider.user.id });
    expect(JSON.stringify(audit.results)).not.toContain(ours.id);
    expect(notifications.results).toEqual([]);
  });

  it('refuses at subscribe time as queries do: NOT_FOUND, FORBIDDEN, UNAUTHENTICATED', async () => {
    const outsider = await signUp(api);
    const client = open(outsider.accessToken);
    const hidden = client.subscribe(TASK_CHANGED, { projectId });
    const memberClient = open(member.accessToken);
    const notAdmin = memberClient.subscribe(AUDIT_EVENT_ADDED, { organizationId });
    const anonymous = open().subscribe(NOTIFICATION_ADDED);
    await waitFor(() => hidden.completed && notAdmin.completed && anonymous.completed, 'three refusals');
    const codeOf = (subscription: LiveSubscription) => subscription.results[0]?.errors?.[0]?.extensions.code;
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(notAdmin)).toBe('FORBIDDEN');
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(hidden.results[0].errors![0].extensions.requestId).toEqual(expect.any(String));
  });

  it('refuses what HTTP refuses: a query too deep, an operation that is not a subscription, bad text', async () => {
    const client = open(owner.accessToken);
    let selection = 'id';
    for (let level = 0; level < 5; level += 1) selection = `project { tasks { edges { node { ${selection} } } } }`;
    const deep = client.subscribe(
      `subscription($projectId: ID!) { taskChanged(projectId: $projectId) { task { ${selection} } } }`,
      { projectId },
    );
    const query = client.subscribe(`{ me { id } }`);
    const nul = client.subscribe(TASK_CHANGED, { projectId: 'a\u0000b' });
    await waitFor(() => deep.refused && query.refused && nul.completed, 'three refusals');
    expect(deep.refused!.map((error) => error.extensions)).toContainEqual(
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' }),
    );
    expect(query.refused![0].extensions.code).toBe('BAD_REQUEST');
    expect(nul.refused?.[0].extensions.code ?? nul.results[0]?.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('ends the subscription with FORBIDDEN when the membership is removed, at the next event', async () => {
    const leaving = await addMember(api, owner, organizationId, 'ADMIN');
    const client = open(leaving.accessToken);
    const tasks = client.subscribe(TASK_CHANGED, { projectId });
    const audit = client.subscribe(AUDIT_EVENT_ADDED, { organizationId });
    await subscriptionsOpen(2);
    await ok(api.gql(REMOVE, { id: leaving.membershipId }, { token: owner.accessToken }));
    await createTask(api, owner, projectId, { title: 'After the removal' });
    await waitFor(() => tasks.completed && audit.completed, 'both subscriptions to end');
    expect(tasks.results.at(-1)!.errors![0].extensions.code).toBe('FORBIDDEN');
    expect(audit.results.at(-1)!.errors![0].extensions.code).toBe('FORBIDDEN');
    expect(JSON.stringify(tasks.results)).not.toContain('After the removal');
  });

  it('caps subscriptions per connection (RATE_LIMITED) and connections per user (4029)', async () => {
    const client = open(owner.accessToken);
    for (let index = 0; index < 3; index += 1) client.subscribe(TASK_CHANGED, { projectId });
    await subscriptionsOpen(3);
    const fourth = client.subscribe(TASK_CHANGED, { projectId });
    await waitFor(() => fourth.refused, 'the fourth subscription to be refused');
    expect(fourth.refused![0].extensions.code).toBe('RATE_LIMITED');

    await open(owner.accessToken).connected();
    await open(owner.accessToken).connected();
    const oneTooMany = open(owner.accessToken);
    await waitFor(() => oneTooMany.closes.length > 0, 'the fourth connection to be closed');
    expect(oneTooMany.closes[0]).toEqual({ code: 4029, reason: 'Too many connections' });
  });

  it('takes the token under `Authorization` too, and answers an upgrade on another path with 404', async () => {
    const client = liveClient(api.baseUrl, member.accessToken, { paramsKey: 'Authorization' });
    clients.push(client);
    const notifications = client.subscribe(NOTIFICATION_ADDED);
    await subscriptionsOpen(1);
    expect(notifications.results).toEqual([]);

    const status = await new Promise<number | undefined>((resolve) => {
      const socket = new WebSocket(`${api.baseUrl.replace(/^http/, 'ws')}/elsewhere`, 'graphql-transport-ws');
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode));
      socket.on('open', () => resolve(undefined));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });

  it('closes a connection whose token is invalid with 4403', async () => {
    const client = open('not-a-token');
    await waitFor(() => client.closes.length > 0, 'the socket to close');
    expect(client.closes[0].code).toBe(4403);
  });

  it('reports connections, subscriptions and messages on /metrics', async () => {
    const client = open(owner.accessToken);
    client.subscribe(TASK_CHANGED, { projectId });
    await subscriptionsOpen(1);
    const metrics = await (await fetch(api.app.http.metricsUrl!)).text();
    expect(metrics).toMatch(/^live_connections [1-9]/m);
    expect(metrics).toMatch(/^live_subscriptions 1$/m);
    expect(metrics).toMatch(/^live_messages_sent_total [1-9]/m);
    expect(metrics).toMatch(/^live_connections_closed_total\{code="4029"\} 1$/m);
  });
});

describe('a live connection whose token expires', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ ACCESS_TOKEN_TTL: '2s' });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('is closed with 4001 when its access token expires, on a real timer', async () => {
    const user = await signUp(api);
    const client = liveClient(api.baseUrl, user.accessToken);
    const notifications = client.subscribe(NOTIFICATION_ADDED);
    await waitFor(() => api.app.live.size === 1, 'the subscription');
    await waitFor(() => client.closes.length > 0, 'the socket to close', 10_000);
    expect(client.closes[0]).toEqual({ code: 4001, reason: 'Token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(user.accessTokenExpiresAt).getTime());
    expect(notifications.results).toEqual([]);
    await waitFor(() => api.app.live.size === 0, 'the subscription to end');
    await client.dispose();
  });
});
