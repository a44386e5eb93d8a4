import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, CREATE_PROJECT, CREATE_TASK, createProject, createTask, UPDATE_TASK } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

let api: TestApp;
let owner: Session;
let member: Session & { membershipId: string };
let organizationId: string;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, 'Projects Co')).id;
  member = await addMember(api, owner, organizationId, 'MEMBER');
});

afterAll(async () => {
  await api?.stop();
});

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;
const fieldsOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  (response.body.errors?.[0]?.extensions.validationErrors ?? []).map((error: { field: string }) => error.field).sort();

describe('projects', () => {
  it('lets any member create one, trimmed, ACTIVE, in their organization', async () => {
    const response = await ok(
      api.gql(
        CREATE_PROJECT,
        { input: { organizationId, name: '  Launch  ', description: '  Ship it  ' } },
        { token: member.accessToken },
      ),
    );
    expect(response.createProject).toMatchObject({
      name: 'Launch',
      description: 'Ship it',
      status: 'ACTIVE',
      organization: { id: organizationId },
    });
  });

  it('rejects a blank name, a name over 100 characters and a malformed organization id', async () => {
    const blank = await api.gql(
      CREATE_PROJECT,
      { input: { organizationId, name: '   ' } },
      { token: member.accessToken },
    );
    const long = await api.gql(
      CREATE_PROJECT,
      { input: { organizationId, name: 'x'.repeat(101) } },
      { token: member.accessToken },
    );
    const malformed = await api.gql(
      CREATE_PROJECT,
      { input: { organizationId: 'nope', name: 'Fine' } },
      { token: member.accessToken },
    );
    expect([fieldsOf(blank), fieldsOf(long), fieldsOf(malformed)]).toEqual([['name'], ['name'], ['organizationId']]);
  });

  it('lists newest first, filtered by status and name, in pages with a total', async () => {
    const org = (await createOrganization(api, owner, 'Listing')).id;
    const names = ['Alpha launch', 'Beta', 'Gamma launch', 'Delta', 'Epsilon launch'];
    const ids: string[] = [];
    for (const name of names) ids.push((await createProject(api, owner, org, name)).id);
    await ok(
      api.gql('mutation($id: ID!) { archiveProject(id: $id) { id } }', { id: ids[0] }, { token: owner.accessToken }),
    );

    const LIST = `query($org: ID!, $first: Int, $after: String, $filter: ProjectFilter) {
      projects(organizationId: $org, first: $first, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id name status } } } }`;
    const all = await ok(api.gql(LIST, { org, first: 3 }, { token: owner.accessToken }));
    expect(all.projects.totalCount).toBe(5);
    expect(all.projects.pageInfo.hasNextPage).toBe(true);
    const rest = await ok(
      api.gql(LIST, { org, first: 3, after: all.projects.pageInfo.endCursor }, { token: owner.accessToken }),
    );
    const order = [...all.projects.edges, ...rest.projects.edges].map((edge: { node: { id: string } }) => edge.node.id);
    expect(order).toEqual([...ids].reverse());
    expect(rest.projects.pageInfo.hasNextPage).toBe(false);

    const launches = await ok(
      api.gql(LIST, { org, filter: { search: 'LAUNCH', status: 'ACTIVE' } }, { token: owner.accessToken }),
    );
    expect(launches.projects.edges.map((edge: { node: { name: string } }) => edge.node.name)).toEqual([
      'Epsilon launch',
      'Gamma launch',
    ]);
    expect(launches.projects.totalCount).toBe(2);
    const literal = await ok(api.gql(LIST, { org, filter: { search: '%' } }, { token: owner.accessToken }));
    expect(literal.projects.totalCount).toBe(0);
  });

  it('renames with updateProject', async () => {
    const project = await createProject(api, member, organizationId, 'Old');
    const data = await ok(
      api.gql(
        'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { name description } }',
        { input: { id: project.id, name: 'New' } },
        {
          token: member.accessToken,
        },
      ),
    );
    expect(data.updateProject).toEqual({ name: 'New', description: null });
  });

  it('lets only an ADMIN archive, and then keeps its tasks read-only (CONFLICT) but readable', async () => {
    const project = await createProject(api, member, organizationId, 'To archive');
    const task = await createTask(api, member, project.id);
    const ARCHIVE = 'mutation($id: ID!) { archiveProject(id: $id) { status } }';
    expect(codeOf(await api.gql(ARCHIVE, { id: project.id }, { token: member.accessToken }))).toBe('FORBIDDEN');
    expect((await ok(api.gql(ARCHIVE, { id: project.id }, { token: owner.accessToken }))).archiveProject.status).toBe(
      'ARCHIVED',
    );

    const writes = [
      api.gql(CREATE_TASK, { input: { projectId: project.id, title: 'More' } }, { token: member.accessToken }),
      api.gql(UPDATE_TASK, { input: { id: task.id, title: 'Changed' } }, { token: member.accessToken }),
      api.gql('mutation($id: ID!) { deleteTask(id: $id) }', { id: task.id }, { token: member.accessToken }),
      api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'Hello' } }, { token: member.accessToken }),
    ];
    expect((await Promise.all(writes)).map(codeOf)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT']);
    const read = await ok(
      api.gql(
        'query($id: ID!) { task(id: $id) { title project { status } } }',
        { id: task.id },
        { token: member.accessToken },
      ),
    );
    expect(read.task).toEqual({ title: 'Task', project: { status: 'ARCHIVED' } });
  });
});

describe('tasks', () => {
  let projectId: string;

  beforeAll(async () => {
    projectId = (await createProject(api, owner, organizationId, 'Tasks')).id;
  });

  it('creates with defaults: TODO, priority 0, version 1, created by the viewer', async () => {
    const data = await ok(
      api.gql(CREATE_TASK, { input: { projectId, title: ' Write tests ' } }, { token: member.accessToken }),
    );
    expect(data.createTask).toMatchObject({
      title: 'Write tests',
      status: 'TODO',
      priority: 0,
      dueDate: null,
      version: 1,
      assignee: null,
      createdBy: { id: member.user.id },
      project: { id: projectId },
    });
  });

  it('assigns a member, and refuses an assignee from outside the organization with BAD_USER_INPUT', async () => {
    const assigned = await ok(
      api.gql(
        CREATE_TASK,
        { input: { projectId, title: 'Mine', assigneeId: member.user.id } },
        { token: owner.accessToken },
      ),
    );
    expect(assigned.createTask.assignee).toEqual({ id: member.user.id });

    const outsider = await signUp(api);
    const refused = await api.gql(
      CREATE_TASK,
      { input: { projectId, title: 'Theirs', assigneeId: outsider.user.id } },
      { token: owner.accessToken },
    );
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(fieldsOf(refused)).toEqual(['assigneeId']);
  });

  it('validates title, priority, description and ids', async () => {
    const cases = await Promise.all([
      api.gql(CREATE_TASK, { input: { projectId, title: '' } }, { token: member.accessToken }),
      api.gql(CREATE_TASK, { input: { projectId, title: 'x'.repeat(201) } }, { token: member.accessToken }),
      api.gql(CREATE_TASK, { input: { projectId, title: 'P', priority: 5 } }, { token: member.accessToken }),
      api.gql(
        CREATE_TASK,
        { input: { projectId, title: 'D', description: 'x'.repeat(10_001) } },
        { token: member.accessToken },
      ),
      api.gql(CREATE_TASK, { input: { projectId: 'nope', title: 'I' } }, { token: member.accessToken }),
      api.gql('query { task(id: "nope") { id } }', {}, { token: member.accessToken }),
    ]);
    expect(cases.map(fieldsOf)).toEqual([['title'], ['title'], ['priority'], ['description'], ['projectId'], ['id']]);
  });

  it('bumps the version on every update and refuses a stale expectedVersion with CONFLICT, changing nothing', async () => {
    const task = await createTask(api, member, projectId, { title: 'Versioned' });
    const first = await ok(
      api.gql(
        UPDATE_TASK,
        { input: { id: task.id, expectedVersion: 1, status: 'IN_PROGRESS' } },
        { token: member.accessToken },
      ),
    );
    expect(first.updateTask).toMatchObject({ status: 'IN_PROGRESS', version: 2 });

    const stale = await api.gql(
      UPDATE_TASK,
      { input: { id: task.id, expectedVersion: 1, title: 'Lost update' } },
      { token: owner.accessToken },
    );
    expect(codeOf(stale)).toBe('CONFLICT');
    const unchanged = await ok(
      api.gql('query($id: ID!) { task(id: $id) { title version } }', { id: task.id }, { token: member.accessToken }),
    );
    expect(unchanged.task).toEqual({ title: 'Versioned', version: 2 });

    const blind = await ok(
      api.gql(UPDATE_TASK, { input: { id: task.id, priority: 3 } }, { token: member.accessToken }),
    );
    expect(blind.updateTask).toMatchObject({ priority: 3, version: 3, status: 'IN_PROGRESS', title: 'Versioned' });
  });

  it('clears the due date and the assignee with null, and leaves absent fields alone', async () => {
    const task = await createTask(api, owner, projectId, {
      title: 'Clear me',
      dueDate: '2027-01-01T00:00:00.000Z',
      assigneeId: member.user.id,
      priority: 2,
    });
    const cleared = await ok(
      api.gql(UPDATE_TASK, { input: { id: task.id, dueDate: null, assigneeId: null } }, { token: owner.accessToken }),
    );
    expect(cleared.updateTask).toMatchObject({ dueDate: null, assignee: null, priority: 2, title: 'Clear me' });
  });

  it('deletes a task, after which it is NOT_FOUND', async () => {
    const task = await createTask(api, member, projectId, { title: 'Doomed' });
    await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'bye' } }, { token: member.accessToken }));
    expect(
      (await ok(api.gql('mutation($id: ID!) { deleteTask(id: $id) }', { id: task.id }, { token: member.accessToken })))
        .deleteTask,
    ).toBe(true);
    expect(
      codeOf(await api.gql('query($id: ID!) { task(id: $id) { id } }', { id: task.id }, { token: member.accessToken })),
    ).toBe('NOT_FOUND');
  });

  it('answers an unknown task id with NOT_FOUND', async () => {
    expect(
      codeOf(
        await api.gql('query($id: ID!) { task(id: $id) { id } }', { id: randomUUID() }, { token: member.accessToken }),
      ),
    ).toBe('NOT_FOUND');
  });
});

describe('comments', () => {
  it('adds trimmed comments by the viewer and pages through them oldest first', async () => {
    const project = await createProject(api, owner, organizationId, 'Talk');
    const task = await createTask(api, owner, project.id);
    for (const body of [' one ', 'two', 'three']) {
      await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body } }, { token: member.accessToken }));
    }
    const COMMENTS = `query($id: ID!, $after: String) { task(id: $id) { comments(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { body author { id } task { id } } } } } }`;
    const first = await ok(api.gql(COMMENTS, { id: task.id }, { token: owner.accessToken }));
    const second = await ok(
      api.gql(COMMENTS, { id: task.id, after: first.task.comments.pageInfo.endCursor }, { token: owner.accessToken }),
    );
    const bodies = [...first.task.comments.edges, ...second.task.comments.edges].map(
      (edge: { node: { body: string } }) => edge.node.body,
    );
    expect(bodies).toEqual(['one', 'two', 'three']);
    expect(first.task.comments.totalCount).toBe(3);
    expect(second.task.comments.edges[0].node).toMatchObject({ author: { id: member.user.id }, task: { id: task.id } });
  });

  it('rejects a blank body with BAD_USER_INPUT', async () => {
    const project = await createProject(api, owner, organizationId, 'Quiet');
    const task = await createTask(api, owner, project.id);
    expect(
      fieldsOf(await api.gql(ADD_COMMENT, { input: { taskId: task.id, body: '  ' } }, { token: member.accessToken })),
    ).toEqual(['body']);
  });
});
