import { addMember, createOrganization, ok, REMOVE, type Session } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

const TASK_LIST = `query($id: ID!) {
  project(id: $id) { id tasks(first: 20) { totalCount edges { node { id title createdBy { id name email }
    comments(first: 20) { totalCount edges { node { id body author { id name email } } } } } } } } }`;

interface Author {
  id: string;
  name: string;
  email: string | null;
}
interface TaskNode {
  id: string;
  title: string;
  createdBy: Author;
  comments: { totalCount: number; edges: { node: { id: string; body: string; author: Author } }[] };
}

let api: TestApp;
let owner: Session;
let stayer: Session;
let leaver: Session & { membershipId: string };
let projectId: string;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api, { name: 'Owner' });
  const organization = await createOrganization(api, owner, 'Emails');
  stayer = await addMember(api, owner, organization.id, 'MEMBER');
  leaver = await addMember(api, owner, organization.id, 'MEMBER');
  projectId = (await createProject(api, owner, organization.id)).id;
});

afterAll(async () => {
  await api?.stop();
});

describe('User.email of someone the viewer shares no organization with', () => {
  it("is null, and the task list with an ex-member's comment and task stays whole", async () => {
    const discussed = await createTask(api, owner, projectId, { title: 'Discussed' });
    await ok(
      api.gql(ADD_COMMENT, { input: { taskId: discussed.id, body: 'Before I go' } }, { token: leaver.accessToken }),
    );
    await ok(
      api.gql(ADD_COMMENT, { input: { taskId: discussed.id, body: 'Still here' } }, { token: stayer.accessToken }),
    );
    const leftBehind = await createTask(api, leaver, projectId, { title: 'Left behind' });
    expect(await ok(api.gql(REMOVE, { id: leaver.membershipId }, { token: owner.accessToken }))).toEqual({
      removeMember: true,
    });

    const response = await api.gql(TASK_LIST, { id: projectId }, { token: owner.accessToken });
    expect(response.body.errors).toBeUndefined();
    const tasks = response.body.data!.project.tasks as { totalCount: number; edges: { node: TaskNode }[] };
    expect(tasks.totalCount).toBe(2);
    const byTitle = new Map(tasks.edges.map((edge) => [edge.node.title, edge.node]));

    expect(byTitle.get('Left behind')).toMatchObject({
      id: leftBehind.id,
      createdBy: { id: leaver.user.id, name: leaver.user.name, email: null },
    });
    const comments = byTitle.get('Discussed')!.comments;
    expect(comments.totalCount).toBe(2);
    expect(comments.edges.map((edge) => [edge.node.body, edge.node.author])).toEqual([
      ['Before I go', { id: leaver.user.id, name: leaver.user.name, email: null }],
      ['Still here', { id: stayer.user.id, name: stayer.user.name, email: stayer.user.email }],
    ]);
    expect(byTitle.get('Discussed')!.createdBy).toEqual({ id: owner.user.id, name: 'Owner', email: owner.user.email });
  });

  it('is still the address for the user themself, after they left', async () => {
    const data = await ok(api.gql(`{ me { id email } }`, {}, { token: leaver.accessToken }));
    expect(data.me).toEqual({ id: leaver.user.id, email: leaver.user.email });
  });
});
