import { buildApiSchema } from '../../src/app';
import { ACCEPT, createOrganization, invitationTokenFor, INVITE, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, CREATE_PROJECT, CREATE_TASK, UPDATE_TASK } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

const AUDIT = `query($id: ID!, $first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(organizationId: $id, first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id type actor { id } subjectType subjectId data requestId occurredAt } } } }`;

interface AuditNode {
  id: string;
  type: string;
  actor: { id: string } | null;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
  requestId: string | null;
  occurredAt: string;
}

const codeOf = (response: { body: { errors?: { extensions: Record<string, any> }[] } }) =>
  response.body.errors?.[0]?.extensions.code;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api?.stop();
});

async function auditOf(session: Session, organizationId: string, variables: Record<string, unknown> = {}) {
  const data = await ok(
    api.gql(AUDIT, { id: organizationId, first: 100, ...variables }, { token: session.accessToken }),
  );
  return data.auditEvents as {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: AuditNode }[];
  };
}

function drained(): Promise<void> {
  return eventsHandled(api);
}

describe('the audit log', () => {
  let owner: Session;
  let invitee: Session;
  let organizationId: string;
  const requestIds: Record<string, string> = {};

  /** Runs one step of the flow under a request id of its own. */
  async function step<T = Record<string, any>>(
    name: string,
    session: Session,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<T> {
    requestIds[name] = `audit-${name}-${Date.now()}`;
    return ok<T>(
      api.gql(query, variables, { token: session.accessToken, headers: { 'x-request-id': requestIds[name] } }),
    );
  }

  beforeAll(async () => {
    owner = await signUp(api);
    invitee = await signUp(api);
    const created = await step(
      'create-organization',
      owner,
      `mutation { createOrganization(input: { name: "Audited" }) { id } }`,
      {},
    );
    organizationId = created.createOrganization.id;
    await step('invite', owner, INVITE, { input: { organizationId, email: invitee.user.email, role: 'ADMIN' } });
    await step('accept', invitee, ACCEPT, { token: await invitationTokenFor(api, invitee.user.email) });
    const project = await step('create-project', owner, CREATE_PROJECT, {
      input: { organizationId, name: 'Audit trail' },
    });
    const task = await step('create-task', owner, CREATE_TASK, {
      input: { projectId: project.createProject.id, title: 'Trace it' },
    });
    await step('assign-task', owner, UPDATE_TASK, { input: { id: task.createTask.id, assigneeId: invitee.user.id } });
    await step('comment', invitee, ADD_COMMENT, { input: { taskId: task.createTask.id, body: 'Traced' } });
    await drained();
  });

  it('records a whole flow, each row with the request id and actor of the request that caused it, newest first', async () => {
    const audit = await auditOf(owner, organizationId);
    const rows = audit.edges.map((edge) => edge.node);
    // Newest first by request; the two events of one request may share a millisecond, so their order is the id tie-breaker's.
    expect(rows.map((row) => row.requestId)).toEqual([
      requestIds.comment,
      requestIds['assign-task'],
      requestIds['assign-task'],
      requestIds['create-task'],
      requestIds['create-project'],
      requestIds.accept,
      requestIds.invite,
      requestIds['create-organization'],
    ]);
    expect(rows.map((row) => [row.type, row.requestId, row.actor?.id]).sort()).toEqual(
      [
        ['comment.added', requestIds.comment, invitee.user.id],
        ['task.assigned', requestIds['assign-task'], owner.user.id],
        ['task.updated', requestIds['assign-task'], owner.user.id],
        ['task.created', requestIds['create-task'], owner.user.id],
        ['project.created', requestIds['create-project'], owner.user.id],
        ['member.joined', requestIds.accept, invitee.user.id],
        ['member.invited', requestIds.invite, owner.user.id],
        ['organization.created', requestIds['create-organization'], owner.user.id],
      ].sort(),
    );
    expect(audit.totalCount).toBe(8);
    expect(rows[0]).toMatchObject({ subjectType: 'comment', data: { body: 'Traced' } });
    // The audit row's id is the event's: the same id a webhook delivery carries.
    const [event] = (await api.app.dataSource.query(`SELECT id FROM outbox WHERE request_id = $1`, [
      requestIds.comment,
    ])) as { id: string }[];
    expect(rows[0].id).toBe(event.id);
  });

  it('filters by type, actor and subject, and pages with a cursor', async () => {
    expect(
      (await auditOf(owner, organizationId, { filter: { type: 'task.assigned' } })).edges.map((edge) => edge.node.type),
    ).toEqual(['task.assigned']);
    const byInvitee = await auditOf(owner, organizationId, { filter: { actorId: invitee.user.id } });
    expect(byInvitee.edges.map((edge) => edge.node.type)).toEqual(['comment.added', 'member.joined']);
    const task = (await auditOf(owner, organizationId, { filter: { type: 'task.created' } })).edges[0].node;
    const aboutTask = await auditOf(owner, organizationId, { filter: { subjectId: task.subjectId } });
    expect(aboutTask.edges.map((edge) => edge.node.type).sort()).toEqual([
      'task.assigned',
      'task.created',
      'task.updated',
    ]);
    expect(aboutTask.edges.at(-1)!.node.type).toBe('task.created');

    const first = await auditOf(owner, organizationId, { first: 3 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await auditOf(owner, organizationId, { first: 100, after: first.pageInfo.endCursor });
    const all = await auditOf(owner, organizationId);
    expect([...first.edges, ...rest.edges].map((edge) => edge.node.id)).toEqual(all.edges.map((edge) => edge.node.id));
    expect(rest.totalCount).toBe(8);
    expect(
      codeOf(await api.gql(AUDIT, { id: organizationId, filter: { actorId: 'nope' } }, { token: owner.accessToken })),
    ).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(AUDIT, { id: organizationId, after: 'garbage' }, { token: owner.accessToken }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it("says what happened in a line, as the publishing module's catalog renders it", async () => {
    const SUMMARIES = `query($id: ID!, $filter: AuditEventFilter) { auditEvents(organizationId: $id, filter: $filter) { edges { node { type summary } } } }`;
    const summaries = async (type: string) => {
      const data = await ok(api.gql(SUMMARIES, { id: organizationId, filter: { type } }, { token: owner.accessToken }));
      return (data.auditEvents.edges as { node: { type: string; summary: string } }[]).map((edge) => edge.node);
    };
    expect(await summaries('task.created')).toEqual([{ type: 'task.created', summary: 'created the task "Trace it"' }]);
    expect(await summaries('member.invited')).toEqual([
      { type: 'member.invited', summary: `invited ${invitee.user.email} as ADMIN` },
    ]);
    expect(await summaries('comment.added')).toEqual([{ type: 'comment.added', summary: 'commented on a task' }]);
  });

  it('is for ADMIN+ only: a MEMBER gets FORBIDDEN', async () => {
    const member = await signUp(api);
    await ok(
      api.gql(
        INVITE,
        { input: { organizationId, email: member.user.email, role: 'MEMBER' } },
        { token: owner.accessToken },
      ),
    );
    await ok(
      api.gql(ACCEPT, { token: await invitationTokenFor(api, member.user.email) }, { token: member.accessToken }),
    );
    expect(codeOf(await api.gql(AUDIT, { id: organizationId }, { token: member.accessToken }))).toBe('FORBIDDEN');
    expect((await auditOf(invitee, organizationId)).totalCount).toBeGreaterThanOrEqual(8);
  });

  it('cannot be changed or deleted: no mutation touches it, and the table refuses UPDATE and DELETE', async () => {
    const schema = await buildApiSchema();
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations.filter((name) => /audit/i.test(name))).toEqual([]);
    await expect(
      api.app.dataSource.query(`UPDATE audit_events SET type = 'forged' WHERE organization_id = $1`, [organizationId]),
    ).rejects.toThrow(/append-only/);
    await expect(
      api.app.dataSource.query(`DELETE FROM audit_events WHERE organization_id = $1`, [organizationId]),
    ).rejects.toThrow(/append-only/);
    expect((await auditOf(owner, organizationId)).edges.some((edge) => edge.node.type === 'forged')).toBe(false);
  });
});

describe('an organization without events of its own', () => {
  it('has an empty audit log, not somebody else’s', async () => {
    const loner = await signUp(api);
    const organization = await createOrganization(api, loner, 'Quiet Co');
    await drained();
    const audit = await auditOf(loner, organization.id);
    expect(audit.edges.map((edge) => edge.node.type)).toEqual(['organization.created']);
  });
});
