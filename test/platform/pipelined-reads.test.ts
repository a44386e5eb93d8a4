import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import {
  PIPELINED_APPLICATION_NAME,
  PipelinedReads,
  pipelinedClientConfig,
} from '../../src/platform/database/pipelined-reads';
import { pipelinedRead } from '../../src/platform/database/prepared-statements';
import { addMember, createOrganization, ok } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/**
 * DATABASE_PIPELINED_CONNECTIONS (PostgreSQL only: embedded PGlite has one
 * session for every connection, so it keeps the pool): the hot reads outside
 * a transaction go over shared connections, pipelined.
 */
const TASK = `query($id: ID!) { task(id: $id) { id title assignee { id name } } }`;

interface Pipelined {
  pipelinedReads: { open: number; statements: number };
}
const statsOf = (api: TestApp) => (api.app.dataSource as unknown as Pipelined).pipelinedReads;

async function backendsOf(database: TestDatabase): Promise<number[]> {
  const client = new Client({ connectionString: database.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [PIPELINED_APPLICATION_NAME],
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

(usingPostgres ? describe : describe.skip)('pipelined reads on PostgreSQL', () => {
  let database: TestDatabase;
  let api: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ DATABASE_PIPELINED_CONNECTIONS: '2' }, database);
  });

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  async function memberTask() {
    const owner = await signUp(api);
    const organizationId = (await createOrganization(api, owner, 'Pipelined')).id;
    const member = await addMember(api, owner, organizationId, 'MEMBER');
    const project = await createProject(api, owner, organizationId);
    const taskId = (await createTask(api, owner, project.id, { assigneeId: member.user.id })).id;
    return { owner, member, taskId };
  }

  it('opens its connections and sends the task read over them, answering many requests at once alike', async () => {
    expect(statsOf(api).open).toBe(2);
    expect(await backendsOf(database)).toHaveLength(2);
    const { member, taskId } = await memberTask();
    const before = statsOf(api).statements;
    const first = await ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }));
    expect(first.task).toEqual({
      id: taskId,
      title: expect.any(String),
      assignee: { id: member.user.id, name: expect.any(String) },
    });
    expect(statsOf(api).statements).toBe(before + 1);
    // 40 at once: in flight together on two connections, each answer its own.
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }))),
    );
    for (const answer of answers) expect(answer).toEqual(first);
    expect(statsOf(api).statements).toBe(before + 41);
    // Another organization's member reads nothing, through the same statement.
    const outsider = await signUp(api);
    const refused = await api.gql(TASK, { id: taskId }, { token: outsider.accessToken });
    expect(refused.body.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('fails a statement alone: the ones sent with it and after it on its connection are answered', async () => {
    const read = pipelinedRead('SELECT $1::int AS n');
    // Six in one turn over two connections, each to the one with fewer in flight: 1, 3, 5 on one; the two bad ones
    // and 6 on the other, 6 sent behind both failures.
    const values = [1, 'two', 3, 'four', 5, 6];
    const results = await Promise.allSettled(values.map((value) => api.app.dataSource.query(read, [value])));
    results.forEach((result, index) => {
      if (typeof values[index] === 'number') {
        expect(result).toEqual({ status: 'fulfilled', value: [{ n: values[index] }] });
        return;
      }
      const error = (result as PromiseRejectedResult).reason as QueryFailedError & { driverError: { code: string } };
      expect(error).toBeInstanceOf(QueryFailedError);
      expect(error.driverError.code).toBe('22P02');
    });
    expect(api.logs.find('sql failed').length).toBeGreaterThan(0);
  });

  it("tells TypeORM's subscribers of each statement, as the SQL metrics read it, and reports its connections", async () => {
    const seen: { query: string; success?: boolean; executionTime?: number }[] = [];
    const subscriber = { afterQuery: (event: (typeof seen)[number]) => void seen.push(event) };
    api.app.dataSource.subscribers.push(subscriber);
    try {
      const read = pipelinedRead('SELECT $1::int AS n, 2 AS m');
      await api.app.dataSource.query(read, [5]);
      await api.app.dataSource.query(read, ['x']).catch(() => undefined);
      expect(seen.filter((event) => event.query === read)).toEqual([
        expect.objectContaining({ success: true, executionTime: expect.any(Number) }),
        expect.objectContaining({ success: false }),
      ]);
    } finally {
      api.app.dataSource.subscribers.splice(api.app.dataSource.subscribers.indexOf(subscriber as never), 1);
    }
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^db_pipelined_connections_open 2$/m);
  });

  it('survives its sessions ending: reads go through the pool meanwhile, and the connections come back', async () => {
    const { member, taskId } = await memberTask();
    const admin = new Client({ connectionString: database.env.DATABASE_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [await backendsOf(database)]);
    } finally {
      await admin.end();
    }
    await waitFor(() => statsOf(api).open === 0, 'both pipelined connections to be dropped');
    expect(api.logs.find('database connection lost').length).toBeGreaterThan(0);
    // Answered through the pool while none is open.
    const through = await ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }));
    expect(through.task.id).toBe(taskId);
    // Replaced on later reads, at most once a second.
    await waitFor(async () => {
      await ok(api.gql(TASK, { id: taskId }, { token: member.accessToken }));
      return statsOf(api).open === 2;
    }, 'the pipelined connections to be open again');
    expect(await backendsOf(database)).toHaveLength(2);
  });

  it('sends nothing more to a connection whose oldest statement waits too long: the pool serves until it answers', async () => {
    const errors: Error[] = [];
    const reads = new PipelinedReads({
      size: 2,
      client: () => new Client(pipelinedClientConfig({ connectionString: database.env.DATABASE_URL })),
      prepare: () => undefined,
      onError: (error) => errors.push(error),
      stalledAfterMs: 150,
    });
    await reads.start();
    try {
      // One slow statement on each connection.
      const slow = [reads.query('SELECT pg_sleep(0.6)', []), reads.query('SELECT pg_sleep(0.6)', [])];
      expect(slow.every(Boolean)).toBe(true);
      // Not yet stalled: queued behind a slow one, answered after it.
      const queued = reads.query('SELECT 1 AS n', []);
      expect(queued).toBeDefined();
      await waitFor(() => reads.query('SELECT 2 AS n', []) === undefined, 'both connections to count as stalled');
      await Promise.all(slow.map((running) => running!));
      expect((await queued!).rows).toEqual([{ n: 1 }]);
      const after = reads.query('SELECT 3 AS n', []);
      expect(after).toBeDefined();
      expect((await after!).rows).toEqual([{ n: 3 }]);
      expect(errors).toEqual([]);
    } finally {
      await reads.close();
    }
  });

  it('closes its connections when the app stops, and opens none when set to 0', async () => {
    const other = await startTestApp({ DATABASE_PIPELINED_CONNECTIONS: '0' }, database);
    try {
      expect(statsOf(other).open).toBe(0);
      expect(await backendsOf(database)).toHaveLength(2);
    } finally {
      await other.stop();
    }
    const stopping = await startTestApp({ DATABASE_PIPELINED_CONNECTIONS: '3' }, database);
    expect(statsOf(stopping).open).toBe(3);
    await waitFor(async () => (await backendsOf(database)).length === 5, 'the second app to open its three');
    await stopping.stop();
    await waitFor(async () => (await backendsOf(database)).length === 2, 'the stopped app to close its three');
  });
});

it('refuses to mark a statement that is not one plain SELECT', () => {
  expect(() => pipelinedRead('SELECT * FROM tasks WHERE id = $1 FOR UPDATE')).toThrow(/one SELECT/);
  expect(() => pipelinedRead('SELECT pg_advisory_lock(1)')).toThrow(/one SELECT/);
  expect(() => pipelinedRead('UPDATE tasks SET title = $1')).toThrow(/one SELECT/);
  expect(() => pipelinedRead('SELECT 1; SELECT 2')).toThrow(/one SELECT/);
  expect(pipelinedRead('SELECT id FROM tasks WHERE id = $1')).toBe('SELECT id FROM tasks WHERE id = $1');
});
