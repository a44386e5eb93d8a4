import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, withTableMissing, type TestApp } from '../support/test-app';
import { CommentsRepository } from '../../src/modules/projects/comments.repository';
import type { ProjectEvents } from '../../src/modules/projects/project.events';
import { EventPublisher, type StatementEvent } from '../../src/platform/events/outbox';

/**
 * q3 of `npm run bench`: addComment is one statement, an INSERT that finds
 * the task, checks the viewer's membership and the project's status, holds
 * both, and writes the outbox row beside the comment; no BEGIN, no COMMIT.
 * The checks it folds in still answer their own codes, decided only when the
 * INSERT found nothing, and then nothing is written, event included.
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

it('is one statement: the insert with every check folded in and the outbox row beside it', async () => {
  const { response, sql } = await send(member, { i: { taskId, body: '  Looks good  ' } });
  const comment = (await ok(Promise.resolve(response))).addComment as { id: string; body: string };
  expect(comment.body).toBe('Looks good');
  expect(sql).toHaveLength(1);
  expect(sql[0]).toMatch(/INSERT INTO comments/);
  expect(sql[0]).toMatch(/memberships/);
  expect(sql[0]).toMatch(/INSERT INTO outbox/);
  const [event] = (await api.app.dataSource.query(
    `SELECT type, organization_id AS "organizationId", actor_id AS "actorId", request_id AS "requestId",
            subject_type AS "subjectType", data
       FROM outbox WHERE subject_id = $1`,
    [comment.id],
  )) as {
    type: string;
    organizationId: string;
    actorId: string;
    requestId: string;
    subjectType: string;
    data: Record<string, unknown>;
  }[];
  const [task] = (await api.app.dataSource.query('SELECT organization_id AS id FROM tasks WHERE id = $1', [
    taskId,
  ])) as {
    id: string;
  }[];
  expect(event).toMatchObject({
    type: 'comment.added',
    organizationId: task.id,
    actorId: member.user.id,
    subjectType: 'comment',
  });
  expect(event.requestId).toMatch(/^write-path-/);
  const [project] = (await api.app.dataSource.query('SELECT project_id AS id FROM tasks WHERE id = $1', [taskId])) as {
    id: string;
  }[];
  expect(event.data).toEqual({ taskId, projectId: project.id, authorId: member.user.id, body: 'Looks good' });
});

const commentEvents = async () =>
  (
    (await api.app.dataSource.query(`SELECT count(*)::int AS n FROM outbox WHERE type = 'comment.added'`)) as [
      { n: number },
    ]
  )[0].n;

it('answers NOT_FOUND to a non-member and for an unknown task, writing nothing, event included', async () => {
  const before = await commentsOn(taskId);
  const eventsBefore = await commentEvents();
  expect(codeOf((await send(outsider, { i: { taskId, body: 'sneaky' } })).response)).toBe('NOT_FOUND');
  expect(codeOf((await send(member, { i: { taskId: randomUUID(), body: 'nowhere' } })).response)).toBe('NOT_FOUND');
  expect(await commentsOn(taskId)).toBe(before);
  expect(await commentEvents()).toBe(eventsBefore);
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

it('writes neither the comment nor its event when the event cannot be written', async () => {
  const before = await commentsOn(taskId);
  const { response } = await withTableMissing(api, 'outbox', () => send(member, { i: { taskId, body: 'no event' } }));
  expect(codeOf(response)).toBe('INTERNAL_SERVER_ERROR');
  expect(await commentsOn(taskId)).toBe(before);
});

describe('comments asked for in one pass of the event loop', () => {
  const origin = (session: Session, requestId: string) => ({
    requestId,
    viewer: { kind: 'user' as const, userId: session.user.id },
  });
  const prepare = (session: Session, requestId: string) =>
    new EventPublisher().prepare(origin(session, requestId), 'comment.added') as StatementEvent<
      ProjectEvents['comment.added']
    >;

  it('are written by one statement, each with its own row and event', async () => {
    const repository = new CommentsRepository(api.app.dataSource.manager);
    const before = await commentsOn(taskId);
    const events = [0, 1, 2, 3, 4].map((n) => prepare(n % 2 ? member : owner, `batch-${n}-${randomUUID()}`));
    const written = await Promise.all(
      events.map((event, n) =>
        repository.insertOnWritableTask(
          { taskId, authorId: n % 2 ? member.user.id : owner.user.id, body: `batched ${n}` },
          event,
        ),
      ),
    );
    expect(repository.batchCounts).toEqual({ statements: 1, inputs: 5 });
    expect(written.map((comment) => comment?.body)).toEqual([0, 1, 2, 3, 4].map((n) => `batched ${n}`));
    expect(new Set(written.map((comment) => comment?.id)).size).toBe(5);
    expect(await commentsOn(taskId)).toBe(before + 5);
    const rows = (await api.app.dataSource.query(
      `SELECT id, subject_id AS "subjectId", actor_id AS "actorId", request_id AS "requestId", data->>'body' AS body
         FROM outbox WHERE id = ANY($1::uuid[])`,
      [events.map((event) => event.id)],
    )) as { id: string; subjectId: string; actorId: string; requestId: string; body: string }[];
    for (const [n, event] of events.entries()) {
      expect(rows.find((row) => row.id === event.id)).toEqual({
        id: event.id,
        subjectId: written[n]?.id,
        actorId: n % 2 ? member.user.id : owner.user.id,
        requestId: event.ownValues()[3],
        body: `batched ${n}`,
      });
    }
  });

  it('fail alone: a check that fails writes nothing for its comment, a statement that fails is run again one by one', async () => {
    const repository = new CommentsRepository(api.app.dataSource.manager);
    const before = await commentsOn(taskId);
    const write = (session: Session, body: string) =>
      repository.insertOnWritableTask({ taskId, authorId: session.user.id, body }, prepare(session, randomUUID()));
    const [first, outsiders, unstorable, last] = await Promise.allSettled([
      write(member, 'kept 1'),
      write(outsider, 'not a member'),
      // PostgreSQL's text cannot hold U+0000: this statement fails, and with it the batch's first try.
      write(member, 'nul \u0000 inside'),
      write(owner, 'kept 2'),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { body: 'kept 1' } });
    expect(outsiders).toEqual({ status: 'fulfilled', value: undefined });
    expect(unstorable.status).toBe('rejected');
    expect(last).toMatchObject({ status: 'fulfilled', value: { body: 'kept 2' } });
    expect(repository.batchCounts).toEqual({ statements: 5, inputs: 8 });
    expect(await commentsOn(taskId)).toBe(before + 2);
  });
});
