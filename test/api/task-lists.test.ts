import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

let api: TestApp;
let owner: Session;
let organizationId: string;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, 'Lists')).id;
});

afterAll(async () => {
  await api?.stop();
});

const TASKS = `query($id: ID!, $first: Int, $after: String, $filter: TaskFilter, $orderBy: TaskOrder) {
  project(id: $id) { tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id title priority dueDate createdAt updatedAt status } } } } }`;

interface Row {
  id: string;
  title: string;
  priority: number;
  dueDate: string | null;
  createdAt: string;
  updatedAt: string;
  status: string;
}

async function allPages(
  projectId: string,
  variables: Record<string, unknown>,
  first = 2,
): Promise<{ rows: Row[]; totals: number[] }> {
  const rows: Row[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 50; guard += 1) {
    const data: Record<string, any> = await ok(
      api.gql(TASKS, { id: projectId, first, after, ...variables }, { token: owner.accessToken }),
    );
    const connection = data.project.tasks as {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string };
      edges: { node: Row }[];
    };
    rows.push(...connection.edges.map((edge) => edge.node));
    totals.push(connection.totalCount);
    if (!connection.pageInfo.hasNextPage) return { rows, totals };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('Project.tasks ordering', () => {
  let projectId: string;
  let tasks: Row[];

  beforeAll(async () => {
    projectId = (await createProject(api, owner, organizationId, 'Ordered')).id;
    const specs = [
      { priority: 2, dueDate: '2027-03-01T00:00:00.000Z' },
      { priority: 2, dueDate: null },
      { priority: 4, dueDate: '2027-01-01T00:00:00.000Z' },
      { priority: 0, dueDate: null },
      { priority: 2, dueDate: '2027-01-01T00:00:00.000Z' },
      { priority: 1, dueDate: '2027-02-01T00:00:00.000Z' },
      { priority: 4, dueDate: null },
    ];
    for (const [index, spec] of specs.entries())
      await createTask(api, owner, projectId, { title: `T${index}`, ...spec });
    tasks = (await allPages(projectId, { first: 100 }, 100)).rows;
  });

  const byId = (a: Row, b: Row) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const expected = (key: (row: Row) => number | null, descending: boolean) =>
    [...tasks].sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      let order = 0;
      if (ka === null && kb !== null) order = 1;
      else if (ka !== null && kb === null) order = -1;
      else if (ka !== null && kb !== null) order = ka - kb;
      return descending ? -(order || byId(a, b)) : order || byId(a, b);
    });
  const time = (value: string | null) => (value === null ? null : new Date(value).getTime());

  it.each([
    ['CREATED_AT', (row: Row) => time(row.createdAt)],
    ['UPDATED_AT', (row: Row) => time(row.updatedAt)],
    ['PRIORITY', (row: Row) => row.priority],
    ['DUE_DATE', (row: Row) => time(row.dueDate)],
  ] as const)('orders by %s both ways, stable across pages of two, id breaking ties', async (field, key) => {
    for (const direction of ['ASC', 'DESC'] as const) {
      const { rows, totals } = await allPages(projectId, { orderBy: { field, direction } });
      expect(rows.map((row) => row.title)).toEqual(expected(key, direction === 'DESC').map((row) => row.title));
      expect(new Set(totals)).toEqual(new Set([7]));
    }
  });

  it('defaults to newest first', async () => {
    const { rows } = await allPages(projectId, {});
    expect(rows.map((row) => row.title)).toEqual(expected((row) => time(row.createdAt), true).map((row) => row.title));
  });

  it('rejects a cursor from another ordering with BAD_USER_INPUT', async () => {
    const byPriority = await ok(
      api.gql(
        TASKS,
        { id: projectId, first: 1, orderBy: { field: 'PRIORITY', direction: 'ASC' } },
        { token: owner.accessToken },
      ),
    );
    const response = await api.gql(
      TASKS,
      { id: projectId, first: 1, after: byPriority.project.tasks.pageInfo.endCursor, orderBy: { field: 'DUE_DATE' } },
      { token: owner.accessToken },
    );
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'after' }],
    });
  });
});

describe('Project.tasks filters', () => {
  it('filters by status, assignee, least priority and title, with totals to match', async () => {
    const member = await addMember(api, owner, organizationId, 'MEMBER');
    const projectId = (await createProject(api, owner, organizationId, 'Filtered')).id;
    const specs = [
      { title: 'Fix login bug', priority: 4, assigneeId: member.user.id },
      { title: 'Write docs', priority: 1 },
      { title: 'Fix signup BUG', priority: 2, assigneeId: member.user.id },
      { title: 'Plan 100% coverage', priority: 3 },
    ];
    const ids = [];
    for (const spec of specs) ids.push((await createTask(api, owner, projectId, spec)).id);
    await ok(
      api.gql(
        'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }',
        { input: { id: ids[0], status: 'DONE' } },
        { token: owner.accessToken },
      ),
    );

    const titles = async (filter: Record<string, unknown>) => {
      const { rows, totals } = await allPages(projectId, { filter, orderBy: { field: 'PRIORITY', direction: 'DESC' } });
      expect(totals.every((total) => total === rows.length)).toBe(true);
      return rows.map((row) => row.title);
    };
    expect(await titles({ status: ['TODO', 'IN_PROGRESS'] })).toEqual([
      'Plan 100% coverage',
      'Fix signup BUG',
      'Write docs',
    ]);
    expect(await titles({ assigneeId: member.user.id })).toEqual(['Fix login bug', 'Fix signup BUG']);
    expect(await titles({ priorityAtLeast: 3 })).toEqual(['Fix login bug', 'Plan 100% coverage']);
    expect(await titles({ search: 'bug' })).toEqual(['Fix login bug', 'Fix signup BUG']);
    expect(await titles({ search: '100%' })).toEqual(['Plan 100% coverage']);
    expect(await titles({ search: 'bug', status: ['DONE'] })).toEqual(['Fix login bug']);
  });

  it('rejects a priorityAtLeast outside 0..4 and a malformed assigneeId', async () => {
    const projectId = (await createProject(api, owner, organizationId, 'Bad filters')).id;
    for (const filter of [{ priorityAtLeast: 7 }, { assigneeId: 'nope' }]) {
      const response = await api.gql(TASKS, { id: projectId, filter }, { token: owner.accessToken });
      expect(response.body.errors![0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('the nested list costs a constant number of statements', () => {
  const NESTED = `query Nested($org: ID!, $projects: Int!, $tasks: Int!) {
    projects(organizationId: $org, first: $projects) { edges { node { name
      tasks(first: $tasks, orderBy: { field: CREATED_AT, direction: ASC }) { edges { node { title assignee { name } } } } } } } }`;

  let org: string;

  beforeAll(async () => {
    // 40 projects of 20 tasks, each task assigned to one of 5 members: enough for both page sizes to fill.
    org = (await createOrganization(api, owner, 'Nested')).id;
    const assignees: string[] = [];
    for (let i = 0; i < 5; i += 1) assignees.push((await addMember(api, owner, org, 'MEMBER')).user.id);
    await api.app.dataSource.query(
      `WITH p AS (
         INSERT INTO projects (organization_id, name, created_at)
         SELECT $1, 'Project ' || n, now() - make_interval(secs => n) FROM generate_series(1, 40) AS n RETURNING id)
       INSERT INTO tasks (project_id, organization_id, title, created_by_id, assignee_id, created_at)
       SELECT p.id, $1, 'Task ' || n, $2, ($3::uuid[])[1 + n % 5], now() - make_interval(secs => n)
         FROM p, generate_series(1, 20) AS n`,
      [org, owner.user.id, assignees],
    );
  });

  async function statementsFor(projects: number, tasks: number): Promise<string[]> {
    const requestId = `nested-${randomUUID()}`;
    const data = await ok(
      api.gql(NESTED, { org, projects, tasks }, { token: owner.accessToken, headers: { 'x-request-id': requestId } }),
    );
    const edges = data.projects.edges as { node: { tasks: { edges: { node: { assignee: { name: string } } }[] } } }[];
    expect(edges).toHaveLength(projects);
    expect(
      edges.every(
        (edge) =>
          edge.node.tasks.edges.length === tasks && edge.node.tasks.edges.every((task) => task.node.assignee.name),
      ),
    ).toBe(true);
    return api.logs
      .find('sql')
      .filter((entry) => entry.requestId === requestId)
      .map((entry) => String(entry.sql));
  }

  it('is the same for 20 projects of 10 tasks and for 40 of 20, and at most 4 besides authorization', async () => {
    const small = await statementsFor(20, 10);
    const large = await statementsFor(40, 20);
    // The membership is checked in the statement that reads the projects (test/api/read-path.test.ts counts each).
    const authorization = (sql: string) => /memberships/.test(sql);
    expect(large.length).toBe(small.length);
    expect(small.filter((sql) => !authorization(sql)).length).toBeLessThanOrEqual(4);
    expect(small.filter(authorization)).toHaveLength(1);
  });
});
