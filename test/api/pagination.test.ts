import { createOrganization, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

let api: TestApp;
let owner: Session;
let organizationId: string;
let projectIds: string[];

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, 'Pages Co')).id;
  projectIds = [];
  for (const name of ['P1', 'P2', 'P3', 'P4', 'P5'])
    projectIds.push((await createProject(api, owner, organizationId, name)).id);
});

afterAll(async () => {
  await api?.stop();
});

const PROJECTS = `query($org: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  projects(organizationId: $org, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } } }`;

type Page = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string; node: { name: string } }[];
};
const names = (page: Page) => page.edges.map((edge) => edge.node.name);
const projects = async (variables: Record<string, unknown>) =>
  (await ok<{ projects: Page }>(api.gql(PROJECTS, { org: organizationId, ...variables }, { token: owner.accessToken })))
    .projects;
const codeAndField = async (variables: Record<string, unknown>) => {
  const response = await api.gql(PROJECTS, { org: organizationId, ...variables }, { token: owner.accessToken });
  const error = response.body.errors?.[0];
  return [error?.extensions.code, error?.extensions.validationErrors?.[0]?.field];
};

describe('connections (Relay cursor pagination)', () => {
  it('pages forward with start and end cursors, and says whether rows lie before an after cursor', async () => {
    const first = await projects({ first: 2 });
    const second = await projects({ first: 2, after: first.pageInfo.endCursor });

    expect(names(first)).toEqual(['P5', 'P4']);
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0].cursor,
      endCursor: first.edges[1].cursor,
    });
    expect(names(second)).toEqual(['P3', 'P2']);
    expect(second.pageInfo.hasPreviousPage).toBe(true);
    expect(second.totalCount).toBe(5);
  });

  it('pages backward with last/before, in list order, from the end of the list or from a cursor', async () => {
    const tail = await projects({ last: 2 });
    const before = await projects({ last: 2, before: tail.pageInfo.startCursor });
    const head = await projects({ last: 2, before: before.pageInfo.startCursor });

    expect(names(tail)).toEqual(['P2', 'P1']);
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expect(names(before)).toEqual(['P4', 'P3']);
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect(names(head)).toEqual(['P5']);
    expect(head.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
  });

  it('walks the same rows both ways', async () => {
    const forward = await projects({ first: 100 });
    const backward: string[] = [];
    let before: string | null = null;
    do {
      const page: Page = await projects({ last: 2, before });
      backward.unshift(...names(page));
      before = page.pageInfo.hasPreviousPage ? page.pageInfo.startCursor : null;
    } while (before);

    expect(backward).toEqual(names(forward));
  });

  it('answers BAD_USER_INPUT naming the argument for a size out of range, a foreign cursor, or mixed directions', async () => {
    const cursor = (await projects({ first: 1 })).pageInfo.endCursor;

    expect(await codeAndField({ last: 0 })).toEqual(['BAD_USER_INPUT', 'last']);
    expect(await codeAndField({ last: 101 })).toEqual(['BAD_USER_INPUT', 'last']);
    expect(await codeAndField({ first: 0 })).toEqual(['BAD_USER_INPUT', 'first']);
    expect(await codeAndField({ last: 2, before: 'not-a-cursor' })).toEqual(['BAD_USER_INPUT', 'before']);
    expect(await codeAndField({ last: 2, after: cursor })).toEqual(['BAD_USER_INPUT', 'after']);
    expect(await codeAndField({ first: 2, before: cursor })).toEqual(['BAD_USER_INPUT', 'before']);
  });

  it('pages nested lists backward too: the last comments of each task, one statement for all tasks', async () => {
    const task = await createTask(api, owner, projectIds[0]);
    for (const body of ['c1', 'c2', 'c3'])
      await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body } }, { token: owner.accessToken }));

    const read = await ok(
      api.gql(
        'query($id: ID!) { task(id: $id) { comments(last: 2) { pageInfo { hasPreviousPage } edges { node { body } } } } }',
        { id: task.id },
        { token: owner.accessToken },
      ),
    );

    expect(read.task.comments.edges.map((edge: { node: { body: string } }) => edge.node.body)).toEqual(['c2', 'c3']);
    expect(read.task.comments.pageInfo.hasPreviousPage).toBe(true);
  });
});
