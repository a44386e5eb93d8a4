import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { MEMBER_ROLE, preparePostGraphileDatabase } from '../../scripts/bench-postgraphile';
import { createOrganization, ok, type Session } from '../support/organizations';
import { CREATE_TASK, createProject } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';

/**
 * The authorization the bench gives its other two servers, checked against
 * groundwork's rules: PostGraphile's row-level security (as the member role,
 * with the token's subject in jwt.claims.sub) and the reference server's
 * token check and membership-in-the-statement. Roles and RLS need PostgreSQL.
 */
(usingPostgres ? describe : describe.skip)('npm run bench: authorization of PostGraphile and the reference', () => {
  let api: TestApp;
  let url: string;
  let ada: Session;
  let bob: Session;
  const own = { organizationId: '', taskId: '' };
  const others = { organizationId: '', taskId: '' };

  async function asMember<T>(userId: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('role', $1, true), set_config('jwt.claims.sub', $2, true)`, [
        MEMBER_ROLE,
        userId,
      ]);
      return await work(client);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  }

  async function organizationWithTask(owner: Session, into: typeof own) {
    into.organizationId = (await createOrganization(api, owner, 'Org')).id;
    const project = await createProject(api, owner, into.organizationId);
    const input = { projectId: project.id, title: 'Task', assigneeId: owner.user.id };
    into.taskId = (await ok(api.gql(CREATE_TASK, { input }, { token: owner.accessToken }))).createTask.id;
  }

  beforeAll(async () => {
    api = await startTestApp();
    url = api.config.DATABASE_URL!;
    [ada, bob] = [await signUp(api), await signUp(api)];
    await organizationWithTask(ada, own);
    await organizationWithTask(bob, others);
    await preparePostGraphileDatabase(url);
    // Run twice: the bench applies it before every run.
    await preparePostGraphileDatabase(url);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('PostGraphile: a member reads only its organizations, their rows and the users who share one', async () => {
    await asMember(ada.user.id, async (client) => {
      expect((await client.query('SELECT id FROM organizations')).rows).toEqual([{ id: own.organizationId }]);
      expect((await client.query('SELECT id FROM tasks')).rows).toEqual([{ id: own.taskId }]);
      expect((await client.query('SELECT id FROM projects')).rowCount).toBe(1);
      expect((await client.query('SELECT id FROM users')).rows).toEqual([{ id: ada.user.id }]);
      await expect(client.query('SELECT email FROM users')).rejects.toThrow('permission denied');
    });
    await asMember('', async (client) => {
      expect(
        (
          await client.query(
            'SELECT id FROM tasks UNION ALL SELECT id FROM organizations UNION ALL SELECT id FROM users',
          )
        ).rowCount,
      ).toBe(0);
    });
  });

  it('PostGraphile: add_comment writes as the viewer on its own task only, and nothing else may write as someone else', async () => {
    await asMember(ada.user.id, async (client) => {
      const { rows } = await client.query('SELECT * FROM postgraphile_api.add_comment($1, $2)', [
        own.taskId,
        '  hello  ',
      ]);
      expect(rows[0]).toMatchObject({
        task_id: own.taskId,
        author_id: ada.user.id,
        organization_id: own.organizationId,
        body: 'hello',
      });
      await client.query('SAVEPOINT before');
      await expect(
        client.query('SELECT * FROM postgraphile_api.add_comment($1, $2)', [others.taskId, 'x']),
      ).rejects.toMatchObject({ code: 'P0002' });
      await client.query('ROLLBACK TO SAVEPOINT before');
      await expect(
        client.query('INSERT INTO comments (task_id, organization_id, author_id, body) VALUES ($1, $2, $3, $4)', [
          own.taskId,
          own.organizationId,
          bob.user.id,
          'as bob',
        ]),
      ).rejects.toThrow('row-level security');
    });
  });

  describe('the reference server', () => {
    let child: ChildProcess;
    let baseUrl: string;
    const send = (path: string, body: object, token?: string) =>
      fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });

    beforeAll(async () => {
      const env = {
        ...process.env,
        DATABASE_URL: url,
        PORT: '0',
        JWT_SECRET: api.config.JWT_SECRET,
        JWT_ISSUER: api.config.JWT_ISSUER,
        JWT_AUDIENCE: api.config.JWT_AUDIENCE,
      };
      child = spawn(process.execPath, ['-r', '@swc-node/register', 'scripts/bench-reference.ts'], {
        cwd: resolve(__dirname, '../..'),
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const port = await new Promise<string>((done) => {
        let output = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /reference ready on (\d+)/.exec(output);
          if (match) done(match[1]);
        });
      });
      baseUrl = `http://127.0.0.1:${port}`;
    }, 30_000);

    afterAll(() => {
      child?.kill('SIGTERM');
    });

    it("answers a member with the task and its assignee, and 404 for another organization's", async () => {
      const response = await send('/task', { id: own.taskId }, ada.accessToken);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        data: { id: own.taskId, title: 'Task', status: 'TODO', assignee: { id: ada.user.id, name: ada.user.name } },
      });
      expect((await send('/task', { id: others.taskId }, ada.accessToken)).status).toBe(404);
      expect((await send('/nested', { organizationId: others.organizationId }, ada.accessToken)).status).toBe(200);
      expect(await (await send('/nested', { organizationId: others.organizationId }, ada.accessToken)).json()).toEqual({
        data: [],
      });
    });

    it("comments as the token's user, and refuses no token or a forged one with 401", async () => {
      const response = await send('/comment', { taskId: own.taskId, body: ' hi ' }, ada.accessToken);
      const { data } = (await response.json()) as { data: { id: string; body: string } };
      expect(data.body).toBe('hi');
      const stored = await api.app.dataSource.query('SELECT author_id FROM comments WHERE id = $1', [data.id]);
      expect(stored).toEqual([{ author_id: ada.user.id }]);
      expect((await send('/comment', { taskId: others.taskId, body: 'x' }, ada.accessToken)).status).toBe(404);
      expect((await send('/task', { id: own.taskId })).status).toBe(401);
      const [header, payload] = ada.accessToken.split('.');
      expect((await send('/task', { id: own.taskId }, `${header}.${payload}.forged`)).status).toBe(401);
    });
  });
});
