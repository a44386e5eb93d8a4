import { createOrganization, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, CREATE_TASK, createProject, createTask, UPDATE_TASK } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';

let api: TestApp;
let owner: Session;

beforeAll(async () => {
  // Several connections, so task writes and the archive really run side by side on PostgreSQL.
  api = await startTestApp(usingPostgres ? { DATABASE_POOL_MAX: '12' } : {});
  owner = await signUp(api);
});

afterAll(async () => {
  await api?.stop();
});

const codeOf = (response: { body: { errors?: { extensions: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

describe('archiving a project while its tasks are written', () => {
  /** One project archived in the middle of 40 concurrent writes to its tasks; what the outbox says happened, in commit order. */
  async function race(round: number) {
    const organizationId = (await createOrganization(api, owner, `Race ${round}`)).id;
    const project = await createProject(api, owner, organizationId, 'Racing');
    const tasks = await Promise.all(Array.from({ length: 6 }, () => createTask(api, owner, project.id)));
    const as = { token: owner.accessToken };

    const writes = Array.from({ length: 40 }, (_, index) => {
      const task = tasks[index % tasks.length];
      if (index % 3 === 0)
        return api.gql(CREATE_TASK, { input: { projectId: project.id, title: `Late ${index}` } }, as);
      if (index % 3 === 1) return api.gql(ADD_COMMENT, { input: { taskId: task.id, body: `Late ${index}` } }, as);
      return api.gql(UPDATE_TASK, { input: { id: task.id, priority: index % 5 } }, as);
    });
    const archive = api.gql('mutation($id: ID!) { archiveProject(id: $id) { status } }', { id: project.id }, as);
    const results = await Promise.all([...writes.slice(0, 20), archive, ...writes.slice(20)]);
    // The outbox numbers events as their transactions write them: under the lock, the archive's comes after every write that landed.
    const events = (await api.app.dataSource.query(
      `SELECT type FROM outbox WHERE subject_id = $1 OR data->>'projectId' = $1::text ORDER BY position`,
      [project.id],
    )) as { type: string }[];
    return {
      results,
      archived: (await archive).body.data?.archiveProject.status,
      types: events.map((event) => event.type),
    };
  }

  it('lets no task or comment write land after the archive: each commits before it or is CONFLICT', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { results, archived, types } = await race(round);

      expect(results.map((response) => response.status)).toEqual(results.map(() => 200));
      expect(archived).toBe('ARCHIVED');
      expect(
        [...new Set(results.filter((response) => response.body.errors).map(codeOf))].filter(
          (code) => code !== 'CONFLICT',
        ),
      ).toEqual([]);
      expect(types).toContain('project.archived');
      expect(types.slice(types.indexOf('project.archived') + 1)).toEqual([]);
    }
  });

  it('refuses every write to an archived project with CONFLICT and changes nothing', async () => {
    const organizationId = (await createOrganization(api, owner, 'Archived Co')).id;
    const project = await createProject(api, owner, organizationId, 'Done');
    const task = await createTask(api, owner, project.id);
    await ok(
      api.gql(
        'mutation($id: ID!) { archiveProject(id: $id) { status } }',
        { id: project.id },
        { token: owner.accessToken },
      ),
    );
    const as = { token: owner.accessToken };

    const responses = await Promise.all([
      api.gql(CREATE_TASK, { input: { projectId: project.id, title: 'After' } }, as),
      api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'After' } }, as),
      api.gql(UPDATE_TASK, { input: { id: task.id, title: 'After' } }, as),
      api.gql('mutation($id: ID!) { deleteTask(id: $id) }', { id: task.id }, as),
    ]);

    expect(responses.map(codeOf)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    const read = await ok(
      api.gql('query($id: ID!) { task(id: $id) { title comments { totalCount } } }', { id: task.id }, as),
    );
    expect(read.task).toEqual({ title: 'Task', comments: { totalCount: 0 } });
  });
});
