import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { startTestApp, signUp, type TestApp } from '../support/test-app';

/**
 * The two hot reads of `npm run bench` (q1: a task by id with its assignee;
 * q2: an organization's projects, their tasks and assignees) in as few
 * statements as their shape allows, authorization included, whatever the
 * number of rows; and work that only a selected field needs (a list's
 * totalCount) done only when that field is selected.
 */
let api: TestApp;
let owner: Session;
let member: Session;
let org: string;
let taskId: string;

const Q1 = `query Q1($id: ID!) { task(id: $id) { id title status assignee { id name } } }`;
const Q2 = `query Q2($org: ID!, $projects: Int!, $tasks: Int!) { projects(organizationId: $org, first: $projects) { edges { node { id name
  tasks(first: $tasks, orderBy: { field: CREATED_AT, direction: ASC }) { edges { node { id title assignee { id name } } } } } } } }`;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  org = (await createOrganization(api, owner, 'Read path')).id;
  member = await addMember(api, owner, org, 'MEMBER');
  const assignees = [owner.user.id, member.user.id];
  await api.app.dataSource.query(
    `WITH p AS (
       INSERT INTO projects (organization_id, name, created_at)
       SELECT $1, 'Project ' || n, now() - make_interval(secs => n) FROM generate_series(1, 25) AS n RETURNING id)
     INSERT INTO tasks (project_id, organization_id, title, created_by_id, assignee_id, created_at)
     SELECT p.id, $1, 'Task ' || n, $2, ($3::uuid[])[1 + n % 2], now() - make_interval(secs => n)
       FROM p, generate_series(1, 12) AS n`,
    [org, owner.user.id, assignees],
  );
  taskId = (
    (await api.app.dataSource.query('SELECT id FROM tasks WHERE organization_id = $1 LIMIT 1', [org])) as {
      id: string;
    }[]
  )[0].id;
});

afterAll(async () => {
  await api?.stop();
});

/** The SQL one request ran, read from the debug log lines carrying its request id. */
async function statementsOf(
  query: string,
  variables: Record<string, unknown>,
  session: Session,
): Promise<{ data: Record<string, any>; sql: string[] }> {
  const requestId = `read-path-${randomUUID()}`;
  const data = await ok(
    api.gql(query, variables, { token: session.accessToken, headers: { 'x-request-id': requestId } }),
  );
  const sql = api.logs
    .find('sql')
    .filter((entry) => entry.requestId === requestId)
    .map((entry) => String(entry.sql));
  return { data, sql };
}

describe('q1: a task by id with its assignee', () => {
  it("is one statement: the task with the viewer's membership checked in it and its assignee joined", async () => {
    const { data, sql } = await statementsOf(Q1, { id: taskId }, member);
    expect(data.task.id).toBe(taskId);
    expect([owner.user.id, member.user.id]).toContain(data.task.assignee.id);
    expect(data.task.assignee.name).toEqual(expect.any(String));
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/FROM tasks t LEFT JOIN users a ON a\.id = t\.assignee_id WHERE .*memberships/s);
  });

  it('joins no user when the query does not select the assignee, and answers null for an unassigned task', async () => {
    const bare = await statementsOf(`query($id: ID!) { task(id: $id) { id title } }`, { id: taskId }, member);
    expect(bare.sql).toHaveLength(1);
    expect(bare.sql[0]).not.toMatch(/users/);
    const [{ id: unassignedTaskId }] = (await api.app.dataSource.query(
      `INSERT INTO tasks (project_id, organization_id, title, created_by_id)
       SELECT project_id, organization_id, 'Unassigned', created_by_id FROM tasks WHERE id = $1 RETURNING id`,
      [taskId],
    )) as { id: string }[];
    try {
      const { data, sql } = await statementsOf(Q1, { id: unassignedTaskId }, member);
      expect(data.task).toMatchObject({ id: unassignedTaskId, assignee: null });
      expect(sql).toHaveLength(1);
    } finally {
      await api.app.dataSource.query('DELETE FROM tasks WHERE id = $1', [unassignedTaskId]);
    }
  });

  it('gives the joined assignee the same fields as a load by id, email included (co-members see it)', async () => {
    const USER = `{ id name email emailVerified createdAt }`;
    const joined = await statementsOf(`query($id: ID!) { task(id: $id) { assignee ${USER} } }`, { id: taskId }, member);
    // The email's visibility may ask about a shared organization; the user is never loaded again by id.
    expect(joined.sql.filter((sql) => /FROM users r WHERE/.test(sql))).toEqual([]);
    const assignee = joined.data.task.assignee as { id: string; email: string | null };
    expect(assignee.email).toMatch(/@/);
    const self = await statementsOf(`{ me ${USER} }`, {}, assignee.id === member.user.id ? member : owner);
    expect(joined.data.task.assignee).toEqual(self.data.me);
  });

  it('is NOT_FOUND for a non-member and UNAUTHENTICATED for anonymous, as before the fold', async () => {
    const outsider = await signUp(api);
    const hidden = await api.gql(Q1, { id: taskId }, { token: outsider.accessToken });
    expect(hidden.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const anonymous = await api.gql(Q1, { id: taskId });
    expect(anonymous.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('q2: projects, their tasks and assignees', () => {
  it('is three statements, authorization included, for 20x10 and 25x12 alike', async () => {
    const small = await statementsOf(Q2, { org, projects: 20, tasks: 10 }, member);
    const large = await statementsOf(Q2, { org, projects: 25, tasks: 12 }, member);
    expect(small.data.projects.edges).toHaveLength(20);
    expect(
      small.data.projects.edges.every(
        (edge: any) =>
          edge.node.tasks.edges.length === 10 && edge.node.tasks.edges.every((task: any) => task.node.assignee.name),
      ),
    ).toBe(true);
    expect(large.data.projects.edges).toHaveLength(25);
    expect(small.sql).toHaveLength(3);
    expect(small.sql[0]).toMatch(/FROM projects p.*memberships/s);
    expect(large.sql).toHaveLength(3);
  });

  it('answers NOT_FOUND to a non-member and UNAUTHENTICATED to anonymous', async () => {
    const outsider = await signUp(api);
    const hidden = await api.gql(Q2, { org, projects: 5, tasks: 1 }, { token: outsider.accessToken });
    expect(hidden.body.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const anonymous = await api.gql(Q2, { org, projects: 5, tasks: 1 });
    expect(anonymous.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('the users a page of tasks shows', () => {
  it('are fetched ahead in one statement only when a user field is selected', async () => {
    const noUsers = `query($org: ID!) { projects(organizationId: $org, first: 3) { edges { node { tasks(first: 2) { edges { node { id } } } } } } }`;
    expect((await statementsOf(noUsers, { org }, member)).sql).toHaveLength(2);
    const both = `query($org: ID!) { projects(organizationId: $org, first: 3) { edges { node { tasks(first: 2) { edges { node { ... on Task { assignee { id } } by: createdBy { id name } } } } } } } }`;
    const { data, sql } = await statementsOf(both, { org }, member);
    expect(sql).toHaveLength(3);
    expect(sql[2]).toMatch(/FROM users/);
    const tasks = data.projects.edges.flatMap((edge: any) => edge.node.tasks.edges.map((task: any) => task.node));
    expect(tasks).toHaveLength(6);
    expect(
      tasks.every(
        (task: any) => task.by.id === owner.user.id && [owner.user.id, member.user.id].includes(task.assignee.id),
      ),
    ).toBe(true);
  });
});

describe('totalCount', () => {
  const WITH_TOTALS = `query($org: ID!) { projects(organizationId: $org, first: 2) { totalCount edges { node { tasks(first: 1) { ...Counted } } } } }
    fragment Counted on TaskConnection { all: totalCount }`;

  it('is counted only when selected, under an alias or in a fragment too', async () => {
    const without = await statementsOf(Q2, { org, projects: 2, tasks: 1 }, member);
    expect(without.sql.filter((sql) => /count\(\*\)/.test(sql))).toHaveLength(0);
    const counted = await statementsOf(WITH_TOTALS, { org }, member);
    expect(counted.sql.filter((sql) => /count\(\*\)/.test(sql))).toHaveLength(2);
    expect(counted.data.projects.totalCount).toBe(25);
    expect(counted.data.projects.edges.map((edge: any) => edge.node.tasks.all)).toEqual([12, 12]);
  });
});
