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

const codeOf = (response: { body: { errors?: { extensions: Record<string, unknown> }[] } }) => response.body.errors?.[0]?.extensions.code;

describe('archiving a project while its tasks are written', () => {
  it('lets no task or comment write land after the archive: each commits before it or is CONFLICT', async () => {
    const organizationId = (await createOrganization(api, owner, 'Race Co')).id;
    const project = await createProject(api, owner, organizationId, 'Racing');
    const tasks = await Promise.all(Array.from({ length: 6 }, () => createTask(api, owner, project.id)));
    const as = { token: owner.accessToken };

    const writes = Array.from({ length: 24 }, (_, index) => {
      const task = tasks[index % tasks.length];
      if (index % 3 === 0) return api.gql(CREATE_TASK, { input: { projectId: project.id, title: `Late ${index}` } }, as);
      if (index % 3 === 1) return api.gql(ADD_COMMENT, { input: { taskId: task.id, body: `Late ${index}` } }, as);
      return api.gql(UPDATE_TASK, { input: { id: task.id, priority: index % 5 } }, as);
    });
    const archive = api.gql('mutation($id: ID!) { archiveProject(id: $id) { status } }', { id: project.id }, as);
    const results = await Promise.all([...writes.slice(0, 12), archive, ...writes.slice(12)]);

    expect(results.map((response) => response.status)).toEqual(results.map(() => 200));
    expect((await archive).body.data?.archiveProject.status).toBe('ARCHIVED');
    const refused = results.filter((response) => response.body.errors);
    expect([...new Set(refused.map(codeOf))].filter((code) => code !== 'CONFLICT')).toEqual([]);

    // The outbox numbers events as their transactions write them; the archive's comes after every write that landed.
    const events = (await api.app.dataSource.query(
      `SELECT type, position::bigint AS position FROM outbox
        WHERE subject_id = $1 OR data->>'projectId' = $1::text ORDER BY position`,
      [project.id],
    )) as { type: string; position: string }[];
    const archivedAt = events.findIndex((event) => event.type === 'project.archived');
    expect(archivedAt).toBeGreaterThan(-1);
    expect(events.slice(archivedAt + 1).map((event) => event.type)).toEqual([]);
    const landed = results.length - 1 - refused.length;
    expect(events.filter((event) => event.type !== 'project.archived' && event.type !== 'project.created').length).toBeGreaterThanOrEqual(landed);
  });

  it('refuses every write to an archived project with CONFLICT and changes nothing', async () => {
    const organizationId = (await createOrganization(api, owner, 'Archived Co')).id;
    const project = await createProject(api, owner, organizationId, 'Done');
    const task = await createTask(api, owner, project.id);
    await ok(api.gql('mutation($id: ID!) { archiveProject(id: $id) { status } }', { id: project.id }, { token: owner.accessToken }));
    const as = { token: owner.accessToken };

    const responses = await Promise.all([
      api.gql(CREATE_TASK, { input: { projectId: project.id, title: 'After' } }, as),
      api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'After' } }, as),
      api.gql(UPDATE_TASK, { input: { id: task.id, title: 'After' } }, as),
      api.gql('mutation($id: ID!) { deleteTask(id: $id) }', { id: task.id }, as),
    ]);

    expect(responses.map(codeOf)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    const read = await ok(api.gql('query($id: ID!) { task(id: $id) { title comments { totalCount } } }', { id: task.id }, as));
    expect(read.task).toEqual({ title: 'Task', comments: { totalCount: 0 } });
  });
});
