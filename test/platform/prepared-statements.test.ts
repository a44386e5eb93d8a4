import { Client, type ClientConfig, type QueryResult } from 'pg';
import { prepared, usePreparedStatements } from '../../src/platform/database/prepared-statements';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * DATABASE_PREPARED_STATEMENTS: the request path's hot statements (q1's task
 * read and by-id loads, q3's comment insert and outbox row) run as named
 * prepared statements, on PGlite and on PostgreSQL; off, nothing is prepared.
 * A pool of one, so the session the test inspects is the one the requests used.
 */
const TASK = `query($id: ID!) { task(id: $id) { id title assignee { id name } } }`;
const ADD = `mutation($i: AddCommentInput!) { addComment(input: $i) { id body } }`;

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

async function withApp(setting: string, work: (api: TestApp) => Promise<void>): Promise<void> {
  // No pipelined connections: every statement then runs on the pool's one session, the one inspected here.
  const api = await startTestApp(
    { DATABASE_PREPARED_STATEMENTS: setting, DATABASE_POOL_MAX: '1', DATABASE_PIPELINED_CONNECTIONS: '0' },
    database,
  );
  try {
    await work(api);
  } finally {
    await api.stop();
  }
}

async function readAndComment(api: TestApp): Promise<void> {
  const owner: Session = await signUp(api);
  const organizationId = (await createOrganization(api, owner, 'Prepared')).id;
  const member = await addMember(api, owner, organizationId, 'MEMBER');
  const project = await createProject(api, owner, organizationId);
  const taskId = (await createTask(api, owner, project.id, { assigneeId: member.user.id })).id;
  for (let round = 0; round < 2; round += 1) {
    const read = await ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }));
    expect(read.task).toEqual({
      id: taskId,
      title: expect.any(String),
      assignee: { id: member.user.id, name: expect.any(String) },
    });
    const added = await ok(api.gql(ADD, { i: { taskId, body: `round ${round}` } }, { token: member.accessToken }));
    expect(added.addComment.body).toBe(`round ${round}`);
  }
  const outsider = await signUp(api);
  const refused = await api.gql(TASK, { id: taskId }, { token: outsider.accessToken });
  expect(refused.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
}

async function preparedTexts(api: TestApp): Promise<string[]> {
  const rows = (await api.app.dataSource.query(
    `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'gw%' ORDER BY statement`,
  )) as { statement: string }[];
  return rows.map((row) => row.statement);
}

it('runs the hot statements of reads and comments as named prepared statements when on', async () => {
  await withApp('true', async (api) => {
    await readAndComment(api);
    const texts = await preparedTexts(api);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SELECT .* FROM tasks t LEFT JOIN users a ON .* WHERE t\.id = \$1::uuid AND /s),
        expect.stringMatching(/^SELECT .* FROM users r WHERE r\.id = \$1::uuid$/s),
        expect.stringMatching(/INSERT INTO comments AS c/),
        expect.stringMatching(/^INSERT INTO outbox /),
      ]),
    );
  });
});

const COMMENT_AUTHORS = `query($id: ID!) { task(id: $id) { comments(first: 10) { edges { node { author { id } } } } } }`;

it('plans a read of one id once per session, and still reads several ids in one statement', async () => {
  await withApp('true', async (api) => {
    const owner: Session = await signUp(api);
    const organizationId = (await createOrganization(api, owner, 'Plans')).id;
    const member = await addMember(api, owner, organizationId, 'MEMBER');
    const project = await createProject(api, owner, organizationId);
    const taskId = (await createTask(api, owner, project.id, { assigneeId: member.user.id })).id;
    // A table of some size, with statistics: on a few rows every plan costs the same.
    await api.app.dataSource.query(
      `INSERT INTO tasks (project_id, organization_id, title, created_by_id)
        SELECT $1, $2, 'filler ' || n, $3 FROM generate_series(1, 5000) AS n`,
      [project.id, organizationId, owner.user.id],
    );
    await api.app.dataSource.query('ANALYZE tasks');
    for (let run = 0; run < 8; run += 1) await ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }));
    const plans = (await api.app.dataSource.query(
      `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements
        WHERE name LIKE 'gw%' AND statement LIKE 'SELECT % FROM tasks t LEFT JOIN users a %'`,
    )) as { generic: number; custom: number }[];
    // PostgreSQL plans the first five runs for their values, then keeps the generic plan when it costs no more.
    // With `t.id = ANY($1)` the generic plan was costed for ten ids, and all eight runs were planned afresh.
    expect(plans).toEqual([{ generic: 3, custom: 5 }]);

    // Two authors' comments on the task: their users are read by id in one statement, the ANY form.
    await ok(api.gql(ADD, { i: { taskId, body: 'the member' } }, { token: member.accessToken }));
    await ok(api.gql(ADD, { i: { taskId, body: 'the owner' } }, { token: owner.accessToken }));
    const read = await ok(api.gql(COMMENT_AUTHORS, { id: taskId }, { token: member.accessToken }));
    const authors = (read.task.comments.edges as { node: { author: { id: string } } }[]).map(
      (edge) => edge.node.author.id,
    );
    expect(authors.sort()).toEqual([member.user.id, owner.user.id].sort());
    expect(await preparedTexts(api)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SELECT .* FROM users r WHERE r\.id = ANY\(\$1::uuid\[\]\)$/s)]),
    );
  });
});

it('keeps working when the pool replaces its connection (embedded PGlite keeps one session for all of them)', async () => {
  await withApp('true', async (api) => {
    await readAndComment(api);
    const runner = api.app.dataSource.createQueryRunner();
    const client = (await runner.connect()) as Client;
    // An ended client is dropped by pg-pool when released: the next request gets a new connection.
    await client.end();
    await runner.release();
    await readAndComment(api);
  });
});

it('prepares nothing when off', async () => {
  await withApp('false', async (api) => {
    await readAndComment(api);
    expect(await preparedTexts(api)).toEqual([]);
  });
});

it('answers a marked text as pg answers any query: rows, a callback, and an error with the caller on its stack', async () => {
  await withApp('true', async (api) => {
    const text = prepared('SELECT $1::int AS n');
    const runner = api.app.dataSource.createQueryRunner();
    const client = (await runner.connect()) as Client;
    try {
      expect((await client.query(text, [7])).rows).toEqual([{ n: 7 }]);
      const called = await new Promise<QueryResult>((resolve, reject) => {
        void client.query(text, [8], (error: Error | undefined, result: QueryResult) =>
          error ? reject(error) : resolve(result),
        );
      });
      expect(called.rows).toEqual([{ n: 8 }]);
      const refused = await client.query(text, ['seven']).then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string },
      );
      expect(refused?.code).toBe('22P02');
      expect(refused?.stack).toContain('prepared-statements.test.ts');
      expect((await client.query(text, [9])).rows).toEqual([{ n: 9 }]);
      // The pool's one connection is this one: asked here, not through the app.
      const named = await client.query<{ statement: string }>(
        `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'gw%'`,
      );
      expect(named.rows.map((row) => row.statement)).toContain(text);
    } finally {
      await runner.release();
    }
  });
});

it("sets up a marked statement's row parsing once, and afresh when its columns change", async () => {
  await withApp('true', async (api) => {
    const text = prepared('SELECT * FROM prepared_columns WHERE id = $1');
    await api.app.dataSource.query(`CREATE TABLE prepared_columns (id int PRIMARY KEY, at timestamptz)`);
    await api.app.dataSource.query(`INSERT INTO prepared_columns VALUES (1, '2026-01-02T03:04:05Z')`);
    type Internals = QueryResult & { _parsers: unknown[] };
    const run = async () => {
      // A client of its own each time, as the pool's are made: a named statement whose columns changed fails on the
      // session that prepared it (PostgreSQL's "cached plan must not change result type").
      const pool = (api.app.dataSource.driver as unknown as { master: { options: ClientConfig } }).master;
      const client = new Client(pool.options);
      usePreparedStatements(client);
      await client.connect();
      try {
        return (await client.query(text, [1])) as Internals;
      } finally {
        await client.end();
      }
    };
    const first = await run();
    const second = await run();
    expect(second.rows).toEqual([{ id: 1, at: new Date('2026-01-02T03:04:05Z') }]);
    expect(second._parsers).toBe(first._parsers);
    await api.app.dataSource.query(`ALTER TABLE prepared_columns ADD COLUMN note text DEFAULT 'added'`);
    const changed = await run();
    expect(changed.rows).toEqual([{ id: 1, at: new Date('2026-01-02T03:04:05Z'), note: 'added' }]);
    expect(changed._parsers).not.toBe(first._parsers);
  });
});
