import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

/**
 * q3 of `npm run bench`: addComment is BEGIN, one INSERT that finds the task,
 * checks the viewer's membership and the project's status and holds both, the
 * outbox row, COMMIT. The checks it folds in still answer their own codes,
 * decided only when the INSERT found nothing.
 */
let api: TestApp;
let owner: Session;
let member: Session;
let outsider: Session;
let taskId: string;

const ADD = `mutation($i: AddCommentInput!) { addComment(input: $i) { id body createdAt } }`;
const codeOf = (response: { body: { errors?: { extensions: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  outsider = await signUp(api);
  const organizationId = (await createOrganization(api, owner, 'Write path')).id;
  member = await addMember(api, owner, organizationId, 'MEMBER');
  const project = await createProject(api, owner, organizationId);
  taskId = (await createTask(api, owner, project.id, { assigneeId: member.user.id })).id;
});

afterAll(async () => {
  await api?.stop();
});

/** The SQL one request ran, read from the debug log lines carrying its request id. */
async function send(session: Session, variables: Record<string, unknown>) {
  const requestId = `write-path-${randomUUID()}`;
  const response = await api.gql(ADD, variables, {
    token: session.accessToken,
    headers: { 'x-request-id': requestId },
  });
  const sql = api.logs
    .find('sql')
    .filter((entry) => entry.requestId === requestId)
    .map((entry) => String(entry.sql));
  return { response, sql };
}

const commentsOn = async (id: string) =>
  (
    (await api.app.dataSource.query('SELECT count(*)::int AS n FROM comments WHERE task_id = $1', [id])) as [
      { n: number },
    ]
  )[0].n;

it('is four statements: BEGIN, the insert with every check folded in, the outbox row, COMMIT', async () => {
  const { response, sql } = await send(member, { i: { taskId, body: '  Looks good  ' } });
  const comment = (await ok(Promise.resolve(response))).addComment as { id: string; body: string };
  expect(comment.body).toBe('Looks good');
  expect(sql).toHaveLength(4);
  expect(sql[0]).toMatch(/^(START TRANSACTION|BEGIN)/);
  expect(sql[1]).toMatch(/INSERT INTO comments/);
  expect(sql[1]).toMatch(/memberships/);
  expect(sql[2]).toMatch(/INSERT INTO outbox/);
  expect(sql[3]).toBe('COMMIT');
  const [event] = (await api.app.dataSource.query(`SELECT data FROM outbox WHERE subject_id = $1`, [comment.id])) as {
    data: Record<string, unknown>;
  }[];
  const [project] = (await api.app.dataSource.query('SELECT project_id AS id FROM tasks WHERE id = $1', [taskId])) as {
    id: string;
  }[];
  expect(event.data).toEqual({ taskId, projectId: project.id, authorId: member.user.id, body: 'Looks good' });
});

it('answers NOT_FOUND to a non-member and for an unknown task, writing nothing', async () => {
  const before = await commentsOn(taskId);
  expect(codeOf((await send(outsider, { i: { taskId, body: 'sneaky' } })).response)).toBe('NOT_FOUND');
  expect(codeOf((await send(member, { i: { taskId: randomUUID(), body: 'nowhere' } })).response)).toBe('NOT_FOUND');
  expect(await commentsOn(taskId)).toBe(before);
});

it('answers CONFLICT on an archived project, and UNAUTHENTICATED without a token', async () => {
  const organizationId = (await createOrganization(api, owner, 'Archived write path')).id;
  const project = await createProject(api, owner, organizationId);
  const task = await createTask(api, owner, project.id);
  await ok(
    api.gql(
      'mutation($id: ID!) { archiveProject(id: $id) { status } }',
      { id: project.id },
      { token: owner.accessToken },
    ),
  );
  expect(codeOf((await send(owner, { i: { taskId: task.id, body: 'too late' } })).response)).toBe('CONFLICT');
  expect(await commentsOn(task.id)).toBe(0);
  expect(codeOf(await api.gql(ADD, { i: { taskId: task.id, body: 'anonymous' } }))).toBe('UNAUTHENTICATED');
});
