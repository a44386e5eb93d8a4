import { eventTypes } from '../../src/modules';
import {
  ACCEPT,
  CHANGE_ROLE,
  createOrganization,
  invitationTokenFor,
  INVITE,
  ok,
  REMOVE,
  type Session,
} from '../support/organizations';
import { ADD_COMMENT, CREATE_PROJECT, CREATE_TASK, UPDATE_TASK } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

interface OutboxEvent {
  type: string;
  organizationId: string | null;
  actorId: string | null;
  requestId: string | null;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
}

let api: TestApp;

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api?.stop();
});

let requestCounter = 0;

/** Runs a mutation with a request id of our choosing; returns its data and the events it committed. */
async function mutate(session: Session, query: string, variables: Record<string, unknown>) {
  const requestId = `events-test-${(requestCounter += 1)}`;
  const data = await ok(
    api.gql(query, variables, { token: session.accessToken, headers: { 'x-request-id': requestId } }),
  );
  return { data, requestId, events: await eventsOf(requestId) };
}

/** The events the request published; notification.created carries the request id of its cause but is the notifications consumer's, published later. */
async function eventsOf(requestId: string): Promise<OutboxEvent[]> {
  return (await api.app.dataSource.query(
    `SELECT type, organization_id AS "organizationId", actor_id AS "actorId", request_id AS "requestId",
            subject_type AS "subjectType", subject_id AS "subjectId", data
       FROM outbox WHERE request_id = $1 AND type <> 'notification.created' ORDER BY position`,
    [requestId],
  )) as OutboxEvent[];
}

describe('domain events published by the API', () => {
  it('publishes every event of API.md, in the transaction of the write, with the actor and the request id', async () => {
    const owner = await signUp(api);
    const invitee = await signUp(api);
    const seen = new Set<string>();
    const expectEvents = (
      result: { requestId: string; events: OutboxEvent[] },
      actor: Session,
      expected: Partial<OutboxEvent>[],
    ) => {
      expect(result.events).toEqual(
        expected.map((event) =>
          expect.objectContaining({ actorId: actor.user.id, requestId: result.requestId, ...event }),
        ),
      );
      for (const event of result.events) seen.add(event.type);
    };

    const created = await mutate(
      owner,
      `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`,
      { input: { name: 'Eventful' } },
    );
    const organizationId = created.data.createOrganization.id as string;
    expectEvents(created, owner, [
      {
        type: 'organization.created',
        organizationId,
        subjectType: 'organization',
        subjectId: organizationId,
        data: { name: 'Eventful', slug: 'eventful' },
      },
    ]);

    const invited = await mutate(owner, INVITE, {
      input: { organizationId, email: invitee.user.email, role: 'MEMBER' },
    });
    const invitationId = invited.data.inviteMember.id as string;
    expectEvents(invited, owner, [
      {
        type: 'member.invited',
        organizationId,
        subjectType: 'invitation',
        subjectId: invitationId,
        data: {
          invitationId,
          email: invitee.user.email,
          role: 'MEMBER',
          expiresAt: invited.data.inviteMember.expiresAt,
        },
      },
    ]);
    const token = await invitationTokenFor(api, invitee.user.email);
    expect(JSON.stringify(invited.events)).not.toContain(token);

    const joined = await mutate(invitee, ACCEPT, { token });
    const membershipId = joined.data.acceptInvitation.id as string;
    expectEvents(joined, invitee, [
      {
        type: 'member.joined',
        organizationId,
        subjectType: 'membership',
        subjectId: membershipId,
        data: { membershipId, userId: invitee.user.id, role: 'MEMBER', invitationId },
      },
    ]);

    const promoted = await mutate(owner, CHANGE_ROLE, { input: { membershipId, role: 'ADMIN' } });
    expectEvents(promoted, owner, [
      {
        type: 'member.role_changed',
        organizationId,
        subjectId: membershipId,
        data: { membershipId, userId: invitee.user.id, previousRole: 'MEMBER', role: 'ADMIN' },
      },
    ]);

    const project = await mutate(owner, CREATE_PROJECT, { input: { organizationId, name: 'Roadmap' } });
    const projectId = project.data.createProject.id as string;
    expectEvents(project, owner, [
      {
        type: 'project.created',
        organizationId,
        subjectType: 'project',
        subjectId: projectId,
        data: { name: 'Roadmap', description: null },
      },
    ]);

    const renamed = await mutate(
      owner,
      `mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }`,
      { input: { id: projectId, name: 'Plan' } },
    );
    expectEvents(renamed, owner, [
      { type: 'project.updated', subjectId: projectId, data: { changes: { name: { from: 'Roadmap', to: 'Plan' } } } },
    ]);

    const task = await mutate(owner, CREATE_TASK, {
      input: { projectId, title: 'Write it', priority: 2, assigneeId: invitee.user.id },
    });
    const taskId = task.data.createTask.id as string;
    expectEvents(task, owner, [
      {
        type: 'task.created',
        organizationId,
        subjectType: 'task',
        subjectId: taskId,
        data: {
          projectId,
          title: 'Write it',
          description: null,
          status: 'TODO',
          priority: 2,
          dueDate: null,
          assigneeId: invitee.user.id,
        },
      },
      {
        type: 'task.assigned',
        subjectId: taskId,
        data: { projectId, title: 'Write it', assigneeId: invitee.user.id, previousAssigneeId: null },
      },
    ]);

    const started = await mutate(invitee, UPDATE_TASK, {
      input: { id: taskId, expectedVersion: 1, status: 'IN_PROGRESS', title: 'Write it' },
    });
    expectEvents(started, invitee, [
      {
        type: 'task.updated',
        subjectId: taskId,
        data: { projectId, version: 2, changes: { status: { from: 'TODO', to: 'IN_PROGRESS' } } },
      },
    ]);

    const reassigned = await mutate(invitee, UPDATE_TASK, { input: { id: taskId, assigneeId: owner.user.id } });
    expectEvents(reassigned, invitee, [
      {
        type: 'task.updated',
        data: { projectId, version: 3, changes: { assigneeId: { from: invitee.user.id, to: owner.user.id } } },
      },
      {
        type: 'task.assigned',
        data: { projectId, title: 'Write it', assigneeId: owner.user.id, previousAssigneeId: invitee.user.id },
      },
    ]);

    const commented = await mutate(invitee, ADD_COMMENT, { input: { taskId, body: 'On it' } });
    const commentId = commented.data.addComment.id as string;
    expectEvents(commented, invitee, [
      {
        type: 'comment.added',
        organizationId,
        subjectType: 'comment',
        subjectId: commentId,
        data: { taskId, projectId, authorId: invitee.user.id, body: 'On it' },
      },
    ]);

    const deleted = await mutate(owner, `mutation($id: ID!) { deleteTask(id: $id) }`, { id: taskId });
    expectEvents(deleted, owner, [
      { type: 'task.deleted', organizationId, subjectId: taskId, data: { projectId, title: 'Write it' } },
    ]);

    const archived = await mutate(owner, `mutation($id: ID!) { archiveProject(id: $id) { id } }`, { id: projectId });
    expectEvents(archived, owner, [
      { type: 'project.archived', subjectId: projectId, data: { name: 'Plan', previousStatus: 'ACTIVE' } },
    ]);

    const left = await mutate(invitee, REMOVE, { id: membershipId });
    expectEvents(left, invitee, [
      {
        type: 'member.removed',
        organizationId,
        subjectId: membershipId,
        data: { membershipId, userId: invitee.user.id, role: 'ADMIN', left: true },
      },
    ]);

    const settings = await mutate(
      owner,
      `mutation($input: UpdateOrganizationSettingsInput!) { updateOrganizationSettings(input: $input) { id } }`,
      {
        input: { organizationId, requireVerifiedEmail: true },
      },
    );
    expectEvents(settings, owner, [
      {
        type: 'organization.settings_changed',
        organizationId,
        subjectId: organizationId,
        data: { changes: { requireVerifiedEmail: { from: false, to: true } } },
      },
    ]);

    // The identity module's account events are checked in test/api/accounts.test.ts; notification.created is published
    // by the notifications consumer, not by a request (test/api/subscriptions.test.ts receives it as notificationAdded).
    expect([...seen].sort()).toEqual(
      eventTypes.entries
        .filter((entry) => entry.module !== 'identity' && entry.module !== 'notifications')
        .map((entry) => entry.type)
        .sort(),
    );
  });

  it('publishes nothing for a mutation that fails, and nothing for one that changes nothing', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Quiet');
    const project = await ok(
      api.gql(
        CREATE_PROJECT,
        { input: { organizationId: organization.id, name: 'Same' } },
        { token: owner.accessToken },
      ),
    );
    const projectId = project.createProject.id as string;
    const task = await ok(api.gql(CREATE_TASK, { input: { projectId, title: 'T' } }, { token: owner.accessToken }));

    const stale = await api.gql(
      UPDATE_TASK,
      { input: { id: task.createTask.id, expectedVersion: 7, title: 'x' } },
      {
        token: owner.accessToken,
        headers: { 'x-request-id': 'events-test-stale' },
      },
    );
    expect(codeOf(stale)).toBe('CONFLICT');
    expect(await eventsOf('events-test-stale')).toEqual([]);

    const taken = await api.gql(
      `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`,
      { input: { name: 'Other', slug: organization.slug } },
      {
        token: owner.accessToken,
        headers: { 'x-request-id': 'events-test-taken-slug' },
      },
    );
    expect(codeOf(taken)).toBe('CONFLICT');
    expect(await eventsOf('events-test-taken-slug')).toEqual([]);

    const unchanged = await mutate(
      owner,
      `mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }`,
      { input: { id: projectId, name: 'Same' } },
    );
    expect(unchanged.events).toEqual([]);
  });

  it('mails the invitation from the member.invited handler, once', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Mailing');
    const invitee = await signUp(api);
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId: organization.id, email: invitee.user.email } },
        { token: owner.accessToken },
      ),
    );
    const token = await invitationTokenFor(api, invitee.user.email);
    // The mail leaves inside the handler, before its consumption row commits: wait for that, not only the mail.
    await eventsHandled(api);
    const [row] = (await api.app.dataSource.query(
      `SELECT count(*)::int AS n FROM event_consumptions c JOIN outbox o ON o.id = c.event_id
        WHERE c.consumer = 'organizations' AND o.type = 'member.invited' AND o.data->>'email' = $1`,
      [invitee.user.email],
    )) as [{ n: number }];
    expect(row.n).toBe(1);
    await ok(api.gql(ACCEPT, { token }, { token: invitee.accessToken }));
  });
});
