import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createOrganization, INVITE, ok, type Session } from '../support/organizations';
import { createProject, CREATE_TASK } from '../support/projects';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * What a client sees must not depend on GRAPHQL_EXECUTOR: the same answers,
 * defaults, scalars, error codes, paths, request ids, limits and costs on
 * graphql-js and on graphql-jit (test/platform/jit-executor.test.ts compares
 * the two executors answer for answer on a schema of its own).
 */
describe.each(['graphql-js', 'jit'])('GRAPHQL_EXECUTOR=%s', (executor) => {
  let api: TestApp;
  let owner: Session;
  let organizationId: string;
  let projectId: string;

  beforeAll(async () => {
    api = await startTestApp({ GRAPHQL_EXECUTOR: executor });
    owner = await signUp(api);
    organizationId = (await createOrganization(api, owner, 'Executors')).id;
    projectId = (await createProject(api, owner, organizationId)).id;
  });

  afterAll(async () => {
    await api?.stop();
  });

  const as = (headers: Record<string, string> = {}) => ({ token: owner.accessToken, headers });

  it('applies the defaults of input-object fields given in variables, and coerces DateTime and enums', async () => {
    const created = await ok(
      api.gql(CREATE_TASK, { input: { projectId, title: 'Defaults', dueDate: '2027-03-04T05:06:07Z' } }, as()),
    );
    expect(created.createTask).toMatchObject({ priority: 0, status: 'TODO', dueDate: '2027-03-04T05:06:07.000Z' });
    const invited = await ok(api.gql(INVITE, { input: { organizationId, email: uniqueEmail('invitee') } }, as()));
    expect(invited.inviteMember.role).toBe('MEMBER');
  });

  it('reads nested pages with enum filters and an order whose direction is defaulted, and reports the cost', async () => {
    for (const title of ['Listed first', 'Listed second'])
      await ok(api.gql(CREATE_TASK, { input: { projectId, title } }, as()));
    const response = await api.gql(
      `query($id: ID!, $filter: TaskFilter, $order: TaskOrder, $withAssignee: Boolean!) {
        project(id: $id) { name tasks(first: 5, filter: $filter, orderBy: $order) {
          totalCount edges { cursor node { __typename title status createdAt assignee @include(if: $withAssignee) { id } } } } } }`,
      {
        id: projectId,
        filter: { status: ['TODO'], search: 'listed' },
        order: { field: 'CREATED_AT' },
        withAssignee: false,
      },
      as(),
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const { tasks } = response.body.data!.project;
    // Newest first: TaskOrder's direction defaults to DESC.
    expect(tasks.edges.map((edge: { node: { title: string } }) => edge.node.title)).toEqual([
      'Listed second',
      'Listed first',
    ]);
    expect(tasks.edges[0].node).toEqual({
      __typename: 'Task',
      title: 'Listed second',
      status: 'TODO',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(response.body.extensions).toEqual({ cost: { requested: expect.any(Number), limit: 50000 } });
  });

  it('answers a variable that does not coerce with BAD_USER_INPUT, status 400 and the request id', async () => {
    const response = await api.gql(CREATE_TASK, { input: { projectId, title: 5 } }, as({ 'x-request-id': 'bad-var' }));
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('Variable "$input" got invalid value 5 at "input.title"'),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', requestId: 'bad-var' }),
      }),
    ]);
  });

  it('reports a resolver error with its code, path, locations and request id, and input validation in detail', async () => {
    const missing = await api.gql(
      'query($id: ID!) { task(id: $id) { id } }',
      { id: randomUUID() },
      as({ 'x-request-id': 'missing-task' }),
    );
    expect(missing.body.errors).toEqual([
      {
        message: expect.any(String),
        path: ['task'],
        locations: [{ line: 1, column: 19 }],
        extensions: expect.objectContaining({ code: 'NOT_FOUND', requestId: 'missing-task' }),
      },
    ]);
    const invalid = await api.gql(CREATE_TASK, { input: { projectId, title: '' } }, as());
    expect(invalid.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'title' }],
    });
  });

  it('refuses a query over a limit before it runs', async () => {
    const loop = (inner: string, times: number): string =>
      times === 0 ? inner : loop(`project { tasks { edges { node { ${inner} } } } }`, times - 1);
    const deep = `query($id: ID!) { task(id: $id) { ${loop('id', 4)} } }`;
    const response = await api.gql(deep, { id: randomUUID() }, as());
    expect(response.body.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(response.body.data).toBeUndefined();
  });
});
