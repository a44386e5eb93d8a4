import {
  ACCEPT,
  addMember,
  createOrganization,
  INVITE,
  invitationTokenFor,
  ok,
  REMOVE,
  type Session,
} from '../support/organizations';
import { ADD_COMMENT, createProject, createTask, UPDATE_TASK } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

const NOTIFICATIONS = `query($first: Int, $after: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id type message readAt createdAt task { id title } } } } }`;
const MARK_READ = `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`;

interface NotificationNode {
  id: string;
  type: string;
  message: string;
  readAt: string | null;
  task: { id: string; title: string } | null;
}

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

let api: TestApp;
let owner: Session;
let alice: Session;
let bob: Session;
let organizationId: string;
let projectId: string;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, 'Notified')).id;
  alice = await addMember(api, owner, organizationId, 'MEMBER');
  bob = await addMember(api, owner, organizationId, 'MEMBER');
  projectId = (await createProject(api, owner, organizationId)).id;
});

afterAll(async () => {
  await api?.stop();
});

function drained(): Promise<void> {
  return eventsHandled(api);
}

async function notificationsOf(session: Session, variables: Record<string, unknown> = {}) {
  await drained();
  const data = await ok(api.gql(NOTIFICATIONS, { first: 100, ...variables }, { token: session.accessToken }));
  return data.notifications as {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: NotificationNode }[];
  };
}

const nodes = async (session: Session, variables: Record<string, unknown> = {}) =>
  (await notificationsOf(session, variables)).edges.map((edge) => edge.node);

describe('notifications', () => {
  it('tell the new assignee about task.assigned, on create and on update, and never the actor who assigned themself', async () => {
    const before = (await nodes(alice)).length;
    const created = await createTask(api, owner, projectId, { title: 'For Alice', assigneeId: alice.user.id });
    const aliceNow = await nodes(alice);
    expect(aliceNow).toHaveLength(before + 1);
    expect(aliceNow[0]).toMatchObject({
      type: 'task.assigned',
      message: 'You were assigned the task "For Alice"',
      readAt: null,
      task: { id: created.id, title: 'For Alice' },
    });

    const bobBefore = (await nodes(bob)).length;
    await ok(
      api.gql(UPDATE_TASK, { input: { id: created.id, assigneeId: bob.user.id } }, { token: alice.accessToken }),
    );
    expect((await nodes(bob))[0]).toMatchObject({ type: 'task.assigned', task: { id: created.id } });
    expect(await nodes(bob)).toHaveLength(bobBefore + 1);

    const ownerBefore = (await nodes(owner)).length;
    await createTask(api, owner, projectId, { title: 'Mine', assigneeId: owner.user.id });
    expect(await nodes(owner)).toHaveLength(ownerBefore);
  });

  it("tell the task's assignee and creator about comment.added, never its author", async () => {
    const task = await createTask(api, owner, projectId, { title: 'Discussed', assigneeId: alice.user.id });
    const counts = async () => Promise.all([owner, alice, bob].map(async (session) => (await nodes(session)).length));
    const [ownerBefore, aliceBefore, bobBefore] = await counts();

    await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'From Bob' } }, { token: bob.accessToken }));
    expect(await counts()).toEqual([ownerBefore + 1, aliceBefore + 1, bobBefore]);
    expect((await nodes(owner))[0]).toMatchObject({
      type: 'comment.added',
      message: 'New comment on the task "Discussed"',
      task: { id: task.id },
    });

    await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'From Alice' } }, { token: alice.accessToken }));
    expect(await counts()).toEqual([ownerBefore + 2, aliceBefore + 1, bobBefore]);
  });

  it('list only the unread with unreadOnly, and markNotificationsRead marks only the viewer’s own', async () => {
    await createTask(api, owner, projectId, { title: 'Read me', assigneeId: bob.user.id });
    const unread = await nodes(bob, { unreadOnly: true });
    expect(unread.length).toBeGreaterThan(0);
    const aliceIds = (await nodes(alice)).map((node) => node.id);

    const marked = await ok(
      api.gql(MARK_READ, { ids: [...unread.map((node) => node.id), ...aliceIds] }, { token: bob.accessToken }),
    );
    expect(marked.markNotificationsRead).toBe(unread.length);
    expect(await nodes(bob, { unreadOnly: true })).toEqual([]);
    expect((await nodes(bob)).every((node) => node.readAt !== null)).toBe(true);
    expect((await nodes(alice)).filter((node) => node.readAt !== null)).toEqual([]);

    const again = await ok(api.gql(MARK_READ, { ids: unread.map((node) => node.id) }, { token: bob.accessToken }));
    expect(again.markNotificationsRead).toBe(0);
  });

  it('page newest first with a cursor', async () => {
    for (const title of ['One', 'Two', 'Three'])
      await createTask(api, owner, projectId, { title, assigneeId: alice.user.id });
    const all = await nodes(alice);
    const first = await notificationsOf(alice, { first: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await notificationsOf(alice, { first: 100, after: first.pageInfo.endCursor });
    expect([...first.edges, ...rest.edges].map((edge) => edge.node.id)).toEqual(all.map((node) => node.id));
    expect(all.slice(0, 3).map((node) => node.task?.title)).toEqual(['Three', 'Two', 'One']);
  });

  it('show a deleted task as null', async () => {
    const task = await createTask(api, owner, projectId, { title: 'Doomed', assigneeId: alice.user.id });
    await drained();
    await ok(api.gql(`mutation($id: ID!) { deleteTask(id: $id) }`, { id: task.id }, { token: owner.accessToken }));
    const doomed = (await nodes(alice)).find((node) => node.message.includes('"Doomed"'));
    expect(doomed).toMatchObject({ task: null });
  });

  it('of an organization the viewer was removed from are neither listed nor marked, and later events there add none', async () => {
    const left = await createOrganization(api, owner, 'Left behind');
    const leftProjectId = (await createProject(api, owner, left.id)).id;
    const leaver = await addMember(api, owner, left.id, 'MEMBER');
    const secret = await createTask(api, owner, leftProjectId, { title: 'Secret roadmap', assigneeId: leaver.user.id });
    const [notification] = await nodes(leaver);
    expect(notification).toMatchObject({
      message: 'You were assigned the task "Secret roadmap"',
      task: { id: secret.id },
    });

    expect(await ok(api.gql(REMOVE, { id: leaver.membershipId }, { token: owner.accessToken }))).toEqual({
      removeMember: true,
    });
    expect(await notificationsOf(leaver)).toMatchObject({ totalCount: 0, edges: [] });
    expect(await notificationsOf(leaver, { unreadOnly: true })).toMatchObject({ totalCount: 0, edges: [] });
    expect(await ok(api.gql(MARK_READ, { ids: [notification.id] }, { token: leaver.accessToken }))).toEqual({
      markNotificationsRead: 0,
    });
    expect(
      await api.app.dataSource.query('SELECT read_at FROM notifications WHERE id = $1', [notification.id]),
    ).toEqual([{ read_at: null }]);

    // A comment notifies the task's assignee, but not one who has left.
    await ok(
      api.gql(ADD_COMMENT, { input: { taskId: secret.id, body: 'After you left' } }, { token: owner.accessToken }),
    );
    await drained();
    expect(
      await api.app.dataSource.query('SELECT type FROM notifications WHERE user_id = $1', [leaver.user.id]),
    ).toEqual([{ type: 'task.assigned' }]);
  });

  /** A new member of a new organization (with a project) of the owner's, invited into the suite's organization too. */
  async function memberOfAnotherOrganizationToo(name: string) {
    const organization = await createOrganization(api, owner, name);
    const projectId = (await createProject(api, owner, organization.id)).id;
    const member = await addMember(api, owner, organization.id, 'MEMBER');
    const firstToken = await invitationTokenFor(api, member.user.email);
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId, email: member.user.email, role: 'MEMBER' } },
        { token: owner.accessToken },
      ),
    );
    await ok(
      api.gql(
        ACCEPT,
        { token: await invitationTokenFor(api, member.user.email, { not: firstToken }) },
        { token: member.accessToken },
      ),
    );
    return { organization, projectId, member };
  }

  it('of the organizations the viewer still belongs to stay listed and markable beside those of one they left', async () => {
    const { projectId: leftProjectId, member: leaver } = await memberOfAnotherOrganizationToo('Left again');
    await createTask(api, owner, leftProjectId, { title: 'Gone with them', assigneeId: leaver.user.id });
    const kept = await createTask(api, owner, projectId, { title: 'Kept', assigneeId: leaver.user.id });
    const before = await nodes(leaver);
    // Two organizations' events: handled in either order.
    expect(before.map((node) => node.message).sort()).toEqual([
      'You were assigned the task "Gone with them"',
      'You were assigned the task "Kept"',
    ]);

    await ok(api.gql(REMOVE, { id: leaver.membershipId }, { token: owner.accessToken }));
    const after = await notificationsOf(leaver);
    expect(after.totalCount).toBe(1);
    expect(after.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({ message: 'You were assigned the task "Kept"', task: { id: kept.id, title: 'Kept' } }),
    ]);
    const marked = await ok(api.gql(MARK_READ, { ids: before.map((node) => node.id) }, { token: leaver.accessToken }));
    expect(marked.markNotificationsRead).toBe(1);
  });

  it("addressed to a user who deletes their account are deleted on user.deleted, once; others' stay, their actor shown as former member", async () => {
    const { projectId: otherProjectId, member: leaver } = await memberOfAnotherOrganizationToo('Also left');
    // The leaver assigns Alice a task, then the owner's comment on it notifies both; a task of another organization too.
    const theirs = await createTask(api, leaver, projectId, { title: 'Handed over', assigneeId: alice.user.id });
    await ok(api.gql(ADD_COMMENT, { input: { taskId: theirs.id, body: 'Noted' } }, { token: owner.accessToken }));
    await createTask(api, owner, otherProjectId, { title: 'Elsewhere', assigneeId: leaver.user.id });
    await drained();
    const rowsOf = async (sql: string) =>
      (await api.app.dataSource.query(sql, [leaver.user.id])) as { id: string; message: string }[];
    const othersSql = 'SELECT id, message FROM notifications WHERE user_id <> $1 ORDER BY id';
    expect(
      (await rowsOf('SELECT id, message FROM notifications WHERE user_id = $1')).map((row) => row.message).sort(),
    ).toEqual(['New comment on the task "Handed over"', 'You were assigned the task "Elsewhere"']);
    const others = await rowsOf(othersSql);
    expect(others.filter((row) => row.message.includes('"Handed over"'))).toHaveLength(2);

    expect(
      await ok(
        api.gql(
          `mutation($p: String!) { deleteAccount(input: { password: $p }) }`,
          { p: leaver.password },
          { token: leaver.accessToken },
        ),
      ),
    ).toEqual({ deleteAccount: true });
    await drained();

    expect(await rowsOf('SELECT id, message FROM notifications WHERE user_id = $1')).toEqual([]);
    expect(await rowsOf(othersSql)).toEqual(others);
    const [{ id: eventId }] = await rowsOf(`SELECT id FROM outbox WHERE type = 'user.deleted' AND subject_id = $1`);
    expect(
      await api.app.dataSource.query(
        `SELECT consumer FROM event_consumptions WHERE event_id = $1 AND consumer = 'notifications'`,
        [eventId],
      ),
    ).toEqual([{ consumer: 'notifications' }]);
    expect(
      await api.app.dataSource.query('SELECT consumer FROM event_failures WHERE event_id = $1', [eventId]),
    ).toEqual([]);

    // Notifications copy no actor's name or email; the task they point to shows its deleted creator as "former member".
    const handedOver = await ok(
      api.gql(
        `{ notifications(first: 100) { edges { node { message task { title createdBy { id name email } } } } } }`,
        {},
        { token: alice.accessToken },
      ),
    );
    expect(
      (handedOver.notifications.edges as { node: { message: string } }[])
        .map((edge) => edge.node)
        .filter((node) => node.message.includes('"Handed over"'))
        .sort((a, b) => a.message.localeCompare(b.message)),
    ).toEqual([
      {
        message: 'New comment on the task "Handed over"',
        task: { title: 'Handed over', createdBy: { id: leaver.user.id, name: 'former member', email: null } },
      },
      {
        message: 'You were assigned the task "Handed over"',
        task: { title: 'Handed over', createdBy: { id: leaver.user.id, name: 'former member', email: null } },
      },
    ]);
    expect(JSON.stringify(handedOver)).not.toContain(leaver.user.email);
  });

  it('refuse anonymous clients, malformed ids and more than 100 ids', async () => {
    expect(codeOf(await api.gql(NOTIFICATIONS, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await api.gql(MARK_READ, { ids: [] }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await api.gql(MARK_READ, { ids: ['nope'] }, { token: alice.accessToken }))).toBe('BAD_USER_INPUT');
    const tooMany = Array.from({ length: 101 }, () => '00000000-0000-4000-8000-000000000000');
    expect(codeOf(await api.gql(MARK_READ, { ids: tooMany }, { token: alice.accessToken }))).toBe('BAD_USER_INPUT');
    expect(await ok(api.gql(MARK_READ, { ids: [] }, { token: alice.accessToken }))).toEqual({
      markNotificationsRead: 0,
    });
  });
});
