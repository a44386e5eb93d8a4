import { ok } from '../support/organizations';
import { SmtpCatcher } from '../support/smtp-catcher';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken user { id } } }`;
const VERIFY = `mutation($t: String!) { verifyEmail(token: $t) }`;
const REQUEST_RESET = `mutation($e: String!) { requestPasswordReset(input: { email: $e }) }`;
const RESEND = `mutation($e: String!) { resendVerification(input: { email: $e }) }`;
const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) }`;
const REQUEST_EMAIL_CHANGE = `mutation($e: String!, $p: String!) { requestEmailChange(input: { newEmail: $e, password: $p }) }`;
const CONFIRM_EMAIL_CHANGE = `mutation($t: String!) { confirmEmailChange(token: $t) }`;
const MY_SESSIONS = `{ mySessions { id userAgent current } }`;
const REVOKE_SESSION = `mutation($id: ID!) { revokeSession(id: $id) }`;
const LOG_OUT_EVERYWHERE = `mutation { logOutEverywhere }`;
const DELETE_ACCOUNT = `mutation($p: String!) { deleteAccount(input: { password: $p }) }`;
const ACTIVITY = `query($first: Int, $after: String, $last: Int, $before: String) {
  myAccountActivity(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { node { id type actor { id } subjectType subjectId data requestId occurredAt summary } } } }`;

interface ActivityNode {
  id: string;
  type: string;
  actor: { id: string } | null;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
  requestId: string | null;
  occurredAt: string;
  summary: string;
}

interface Activity {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null; startCursor: string | null };
  edges: { node: ActivityNode }[];
}

type Response = { body: { data?: any; errors?: { message: string; extensions: Record<string, any> }[] } };
const codeOf = (response: Response) => response.body.errors?.[0]?.extensions.code;

const smtp = new SmtpCatcher();
let api: TestApp;

beforeAll(async () => {
  await smtp.start();
  api = await startTestApp({ ...smtp.env });
});

afterAll(async () => {
  await api?.stop();
  await smtp.stop();
});

async function logIn(email: string, password: string, userAgent: string) {
  return (
    await ok<{ logIn: { accessToken: string } }>(
      api.gql(LOG_IN, { input: { email, password } }, { headers: { 'user-agent': userAgent } }),
    )
  ).logIn;
}

async function activityOf(token: string, variables: Record<string, unknown> = { first: 100 }): Promise<Activity> {
  return (await ok<{ myAccountActivity: Activity }>(api.gql(ACTIVITY, variables, { token }))).myAccountActivity;
}

describe('myAccountActivity', () => {
  const password = 'correct horse battery';
  const newPassword = 'a brand new password';
  let user: Awaited<ReturnType<typeof signUp>>;
  let newEmail: string;
  let token: string;
  let phoneSessionId: string;

  beforeAll(async () => {
    user = await signUp(api, { password });
    newEmail = uniqueEmail('moved');
    const verification = await smtp.waitFor(user.user.email, /^Verify your email/);
    await ok(api.gql(VERIFY, { t: SmtpCatcher.tokenIn(verification, '/verify-email') }));

    const phone = await logIn(user.user.email, password, 'Phone/1.0');
    const sessions = (await ok(api.gql(MY_SESSIONS, {}, { token: phone.accessToken }))).mySessions as {
      id: string;
      current: boolean;
    }[];
    phoneSessionId = sessions.find((session) => session.current)!.id;
    await ok(api.gql(REVOKE_SESSION, { id: phoneSessionId }, { token: user.accessToken }));

    await ok(api.gql(CHANGE_PASSWORD, { c: password, n: newPassword }, { token: user.accessToken }));

    await ok(api.gql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: newPassword }, { token: user.accessToken }));
    const confirm = await smtp.waitFor(newEmail, /^Confirm your new email/);
    await ok(api.gql(CONFIRM_EMAIL_CHANGE, { t: SmtpCatcher.tokenIn(confirm, '/confirm-email') }));

    await ok(api.gql(LOG_OUT_EVERYWHERE, {}, { token: user.accessToken }));
    token = (await logIn(newEmail, newPassword, 'Laptop/2.0')).accessToken;
    await eventsHandled(api);
  });

  it("lists the viewer's account entries, newest first, each with its summary", async () => {
    const activity = await activityOf(token);
    expect(activity.totalCount).toBe(7);
    expect(activity.edges.map(({ node }) => [node.type, node.summary])).toEqual([
      ['user.sessions_revoked', 'logged out everywhere'],
      ['user.email_changed', 'changed their email'],
      ['user.email_change_requested', 'asked to change their email'],
      ['user.password_changed', 'changed their password'],
      ['user.sessions_revoked', 'ended a session'],
      ['user.email_verified', 'verified their email'],
      ['user.signed_up', 'created their account'],
    ]);
    for (const { node } of activity.edges) {
      expect(node).toMatchObject({ subjectType: 'user', subjectId: user.user.id });
    }
    const [everywhere, changed, requested, passwordChanged, ended, verified] = activity.edges.map(({ node }) => node);
    // Signed-in steps name the user as actor; the mailed links (verify, confirm) are used signed out.
    expect([everywhere, requested, passwordChanged, ended].map((node) => node.actor?.id)).toEqual(
      Array(4).fill(user.user.id),
    );
    expect([changed.actor, verified.actor]).toEqual([null, null]);
    expect(ended.data).toEqual({ userId: user.user.id, sessionIds: [phoneSessionId], everywhere: false });
    expect(passwordChanged.data).toMatchObject({ userId: user.user.id, reset: false });
    expect(requested.data).toEqual({ userId: user.user.id });
    expect(changed.data).toEqual({ userId: user.user.id });
  });

  it('keeps no email or token in any entry, in the API or in the table', async () => {
    const served = JSON.stringify(await activityOf(token));
    const stored = JSON.stringify(
      await api.app.dataSource.query(`SELECT * FROM audit_events WHERE subject_id = $1`, [user.user.id]),
    );
    for (const text of [served, stored]) {
      expect(text).not.toContain(user.user.email);
      expect(text).not.toContain(newEmail);
      expect(text).not.toContain('@');
    }
    const tokens = smtp
      .to(newEmail)
      .concat(smtp.to(user.user.email))
      .flatMap((mail) => [...mail.text.matchAll(/token=([A-Za-z0-9_-]+)/g)].map((match) => match[1]));
    expect(tokens.length).toBeGreaterThan(0);
    for (const mailed of tokens) expect(stored).not.toContain(mailed);
  });

  it('pages by keyset, forward and backward', async () => {
    const all = (await activityOf(token)).edges.map(({ node }) => node.id);
    const first = await activityOf(token, { first: 3 });
    expect(first.edges.map(({ node }) => node.id)).toEqual(all.slice(0, 3));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await activityOf(token, { first: 3, after: first.pageInfo.endCursor });
    expect(second.edges.map(({ node }) => node.id)).toEqual(all.slice(3, 6));
    const back = await activityOf(token, { last: 2, before: second.pageInfo.startCursor });
    expect(back.edges.map(({ node }) => node.id)).toEqual(all.slice(1, 3));
    expect(codeOf(await api.gql(ACTIVITY, { first: 101 }, { token }))).toBe('BAD_USER_INPUT');
  });

  it("shows nobody else's entries, and none to an anonymous caller", async () => {
    const other = await signUp(api);
    await eventsHandled(api);
    const theirs = await activityOf(other.accessToken);
    expect(theirs.edges.map(({ node }) => [node.type, node.subjectId])).toEqual([['user.signed_up', other.user.id]]);
    expect(theirs.totalCount).toBe(1);

    const anonymous = await api.gql(ACTIVITY, { first: 10 });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(anonymous.body.data?.myAccountActivity ?? null).toBeNull();
  });

  it('records no entry for a reset or verification asked by address, known or unknown; the used reset is one', async () => {
    const before = Number(
      (await api.app.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id IS NULL`))[0]
        .n,
    );
    const unknown = uniqueEmail('nobody');
    await ok(api.gql(REQUEST_RESET, { e: unknown }));
    await ok(api.gql(RESEND, { e: unknown }));
    await ok(api.gql(REQUEST_RESET, { e: newEmail }));
    const reset = await smtp.waitFor(newEmail, /^Reset your/);
    await eventsHandled(api);
    const after = await api.app.dataSource.query(
      `SELECT type, subject_type AS "subjectType" FROM audit_events WHERE organization_id IS NULL`,
    );
    expect(after).toHaveLength(before);

    await ok(
      api.gql(`mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) }`, {
        t: SmtpCatcher.tokenIn(reset, '/reset-password'),
        p: 'yet another password',
      }),
    );
    await eventsHandled(api);
    const fresh = (await logIn(newEmail, 'yet another password', 'Laptop/3.0')).accessToken;
    const [latest] = (await activityOf(fresh, { first: 1 })).edges;
    expect(latest.node).toMatchObject({
      type: 'user.password_changed',
      summary: 'reset their password',
      actor: null,
      data: { userId: user.user.id, reset: true },
    });
  });
});

describe('a deleted account', () => {
  it('leaves its user.deleted entry, with its id and no email, which the log refuses to change', async () => {
    const user = await signUp(api);
    await ok(api.gql(DELETE_ACCOUNT, { p: user.password }, { token: user.accessToken }));
    await eventsHandled(api);

    const rows = (await api.app.dataSource.query(
      `SELECT organization_id AS "organizationId", actor_id AS "actorId", subject_type AS "subjectType", data
         FROM audit_events WHERE subject_id = $1 AND type = 'user.deleted'`,
      [user.user.id],
    )) as Record<string, unknown>[];
    expect(rows).toEqual([
      { organizationId: null, actorId: user.user.id, subjectType: 'user', data: { userId: user.user.id } },
    ]);
    const stored = JSON.stringify(
      await api.app.dataSource.query(`SELECT * FROM audit_events WHERE subject_id = $1`, [user.user.id]),
    );
    expect(stored).not.toContain(user.user.email);

    await expect(
      api.app.dataSource.query(`DELETE FROM audit_events WHERE subject_id = $1`, [user.user.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      api.app.dataSource.query(`UPDATE audit_events SET data = '{}'::jsonb WHERE subject_id = $1`, [user.user.id]),
    ).rejects.toThrow(/append-only/);
  });
});
