import { identityEvents } from '../../src/modules/identity/identity.events';
import { eventsHandled, waitFor } from '../support/wait';
import { AccountTokensRepository } from '../../src/modules/identity/account-tokens.repository';
import { hashOpaqueToken, newOpaqueToken } from '../../src/platform/opaque-tokens';
import { usingPostgres } from '../support/test-database';
import { ACCEPT, createOrganization, INVITE, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { SmtpCatcher, TestClock, type CaughtMail } from '../support/smtp-catcher';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';

const APP_URL = 'https://app.example.test';
const PRODUCT = 'Acme Cloud';
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken user { id } } }`;
const REFRESH = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`;
const ME = `{ me { id email name emailVerified } }`;
const VERIFY = `mutation($t: String!) { verifyEmail(token: $t) }`;
const RESEND = `mutation($e: String!) { resendVerification(input: { email: $e }) }`;
const REQUEST_RESET = `mutation($e: String!) { requestPasswordReset(input: { email: $e }) }`;
const RESET = `mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) }`;
const CHANGE_PASSWORD = `mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) }`;
const REQUEST_EMAIL_CHANGE = `mutation($e: String!, $p: String!) { requestEmailChange(input: { newEmail: $e, password: $p }) }`;
const CONFIRM_EMAIL_CHANGE = `mutation($t: String!) { confirmEmailChange(token: $t) }`;
const MY_SESSIONS = `{ mySessions { id createdAt lastUsedAt expiresAt userAgent ipAddress current } }`;
const REVOKE_SESSION = `mutation($id: ID!) { revokeSession(id: $id) }`;
const LOG_OUT_EVERYWHERE = `mutation { logOutEverywhere }`;
const DELETE_ACCOUNT = `mutation($p: String!) { deleteAccount(input: { password: $p }) }`;
const SETTINGS = `mutation($input: UpdateOrganizationSettingsInput!) { updateOrganizationSettings(input: $input) { id requireVerifiedEmail } }`;

const smtp = new SmtpCatcher();
const clock = new TestClock();
let api: TestApp;

type Response = { body: { data?: any; errors?: { message: string; extensions: Record<string, any> }[] } };
const codeOf = (response: Response) => response.body.errors?.[0]?.extensions.code;

beforeAll(async () => {
  await smtp.start();
  api = await startTestApp(
    { ...smtp.env, APP_URL, PRODUCT_NAME: PRODUCT, MAIL_FROM: 'Acme <accounts@example.test>' },
    undefined,
    { clock },
  );
});

afterAll(async () => {
  await api?.stop();
  await smtp.stop();
});

async function logIn(email: string, password: string, userAgent?: string) {
  return api.gql<{ logIn: { accessToken: string; refreshToken: string } }>(
    LOG_IN,
    { input: { email, password } },
    { headers: userAgent ? { 'user-agent': userAgent } : {} },
  );
}

/** A new user who joined through a real invitation, read from the SMTP catcher. */
async function addMember(owner: Session, organizationId: string, role: 'OWNER' | 'ADMIN' | 'MEMBER') {
  const member = await signUp(api);
  await ok(
    api.gql(INVITE, { input: { organizationId, email: member.user.email, role } }, { token: owner.accessToken }),
  );
  const token = SmtpCatcher.tokenIn(await smtp.waitFor(member.user.email, /invited to join/), '/invitations/accept');
  const data = await ok(api.gql(ACCEPT, { token }, { token: member.accessToken }));
  return { ...member, membershipId: data.acceptInvitation.id as string };
}

async function verificationMail(email: string, count = 1): Promise<CaughtMail> {
  return smtp.waitFor(email, /^Verify your email/, count);
}

describe('email verification', () => {
  it('mails a single-use link at signUp, as text and HTML with the product name and APP_URL, that verifies the address once', async () => {
    const user = await signUp(api);
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.emailVerified).toBe(false);

    const mail = await verificationMail(user.user.email);
    const token = SmtpCatcher.tokenIn(mail, '/verify-email');
    expect(mail.from).toBe('accounts@example.test');
    expect(mail.subject).toBe(`Verify your email for ${PRODUCT}`);
    expect(mail.text).toContain(`${APP_URL}/verify-email?token=${token}`);
    expect(mail.html).toContain(`<a href="${APP_URL}/verify-email?token=${token}">`);
    expect(mail.text).toContain('24 hours');

    expect(await ok(api.gql(VERIFY, { t: token }))).toEqual({ verifyEmail: true });
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.emailVerified).toBe(true);

    const again = await api.gql(VERIFY, { t: token });
    expect(codeOf(again)).toBe('INVALID_TOKEN');
    expect(codeOf(await api.gql(VERIFY, { t: 'not-a-token' }))).toBe('INVALID_TOKEN');
  });

  it('refuses a link once its 24 hours are over', async () => {
    const user = await signUp(api);
    const token = SmtpCatcher.tokenIn(await verificationMail(user.user.email), '/verify-email');
    clock.advance(24 * 3600 * 1000 + 60_000);
    expect(codeOf(await api.gql(VERIFY, { t: token }))).toBe('INVALID_TOKEN');
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.emailVerified).toBe(false);
  });

  it('stores only hashes: what the token table holds verifies and resets nothing', async () => {
    const user = await signUp(api);
    const token = SmtpCatcher.tokenIn(await verificationMail(user.user.email), '/verify-email');
    await ok(api.gql(REQUEST_RESET, { e: user.user.email }));
    const resetToken = SmtpCatcher.tokenIn(await smtp.waitFor(user.user.email, /^Reset your/), '/reset-password');

    const rows = (await api.app.dataSource.query(`SELECT * FROM account_tokens WHERE user_id = $1`, [
      user.user.id,
    ])) as Record<string, unknown>[];
    expect(rows.length).toBe(2);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(resetToken);
    for (const row of rows) {
      const hash = String(row.token_hash);
      expect(codeOf(await api.gql(VERIFY, { t: hash }))).toBe('INVALID_TOKEN');
      expect(codeOf(await api.gql(RESET, { t: hash, p: 'a brand new password' }))).toBe('INVALID_TOKEN');
      // The hash as a token of the right shape, too (a 64-character hex string is not one, but its base64url might be tried).
      expect(codeOf(await api.gql(VERIFY, { t: Buffer.from(hash, 'hex').toString('base64url') }))).toBe(
        'INVALID_TOKEN',
      );
    }
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.emailVerified).toBe(false);
  });

  it('resends a link to an unverified account, answers the same for any address, and is rate limited per address', async () => {
    const user = await signUp(api);
    await verificationMail(user.user.email);
    expect(await ok(api.gql(RESEND, { e: user.user.email }))).toEqual({ resendVerification: true });
    const second = await verificationMail(user.user.email, 2);
    expect(await ok(api.gql(VERIFY, { t: SmtpCatcher.tokenIn(second, '/verify-email') }))).toEqual({
      verifyEmail: true,
    });

    const unknown = uniqueEmail('nobody');
    expect(await ok(api.gql(RESEND, { e: unknown }))).toEqual({ resendVerification: true });
    for (let i = 1; i < 5; i += 1) await ok(api.gql(RESEND, { e: unknown }));
    const limited = await api.gql(RESEND, { e: unknown });
    expect(codeOf(limited)).toBe('RATE_LIMITED');
    expect(limited.body.errors?.[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    await eventsHandled(api);
    expect(smtp.to(unknown)).toEqual([]);
  });

  it('lets an organization require a verified email to accept an invitation (off by default); EMAIL_NOT_VERIFIED until then', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Verified only');
    const defaults = await ok(
      api.gql(
        `query($id: ID!) { organization(id: $id) { requireVerifiedEmail } }`,
        { id: organization.id },
        { token: owner.accessToken },
      ),
    );
    expect(defaults.organization.requireVerifiedEmail).toBe(false);
    const member = await addMember(owner, organization.id, 'MEMBER');
    expect(
      codeOf(
        await api.gql(
          SETTINGS,
          { input: { organizationId: organization.id, requireVerifiedEmail: true } },
          { token: member.accessToken },
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await ok(
        api.gql(
          SETTINGS,
          { input: { organizationId: organization.id, requireVerifiedEmail: true } },
          { token: owner.accessToken },
        ),
      ),
    ).toEqual({
      updateOrganizationSettings: { id: organization.id, requireVerifiedEmail: true },
    });

    const invitee = await signUp(api);
    await ok(
      api.gql(
        `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }`,
        { input: { organizationId: organization.id, email: invitee.user.email } },
        { token: owner.accessToken },
      ),
    );
    const invitation = await smtp.waitFor(invitee.user.email, /invited to join/);
    const invitationToken = SmtpCatcher.tokenIn(invitation, '/invitations/accept');
    const ACCEPT = `mutation($t: String!) { acceptInvitation(token: $t) { id role } }`;
    expect(codeOf(await api.gql(ACCEPT, { t: invitationToken }, { token: invitee.accessToken }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );

    await ok(api.gql(VERIFY, { t: SmtpCatcher.tokenIn(await verificationMail(invitee.user.email), '/verify-email') }));
    expect(
      (await ok(api.gql(ACCEPT, { t: invitationToken }, { token: invitee.accessToken }))).acceptInvitation.role,
    ).toBe('MEMBER');
  });
});

describe('password reset', () => {
  it('mails a single-use link; the reset sets the password, ends every session, verifies the address and mails a notice', async () => {
    const user = await signUp(api);
    const other = (await ok(logIn(user.user.email, user.password))).logIn;

    expect(await ok(api.gql(REQUEST_RESET, { e: user.user.email }))).toEqual({ requestPasswordReset: true });
    const mail = await smtp.waitFor(user.user.email, /^Reset your Acme Cloud password$/);
    const token = SmtpCatcher.tokenIn(mail, '/reset-password');
    expect(mail.text).toContain('30 minutes');
    expect(mail.html).toContain(`${APP_URL}/reset-password?token=${token}`);

    expect(codeOf(await api.gql(RESET, { t: token, p: 'short' }))).toBe('BAD_USER_INPUT');
    expect(await ok(api.gql(RESET, { t: token, p: 'a brand new password' }))).toEqual({ resetPassword: true });
    expect(codeOf(await api.gql(RESET, { t: token, p: 'another new password' }))).toBe('INVALID_TOKEN');

    for (const refreshToken of [user.refreshToken, other.refreshToken])
      expect(codeOf(await api.gql(REFRESH, { t: refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await logIn(user.user.email, user.password))).toBe('UNAUTHENTICATED');
    const fresh = (await ok(logIn(user.user.email, 'a brand new password'))).logIn;
    expect((await ok(api.gql(ME, {}, { token: fresh.accessToken }))).me.emailVerified).toBe(true);

    const notice = await smtp.waitFor(user.user.email, /password was changed/);
    expect(notice.text).toContain('every session was signed out');
    expect(notice.text).not.toMatch(/token=/);
  });

  it('refuses a link after its 30 minutes, and one from before a newer link was used', async () => {
    const user = await signUp(api);
    await ok(api.gql(REQUEST_RESET, { e: user.user.email }));
    const first = SmtpCatcher.tokenIn(await smtp.waitFor(user.user.email, /^Reset your/), '/reset-password');
    await ok(api.gql(REQUEST_RESET, { e: user.user.email }));
    const second = SmtpCatcher.tokenIn(await smtp.waitFor(user.user.email, /^Reset your/, 2), '/reset-password');
    expect(await ok(api.gql(RESET, { t: second, p: 'a brand new password' }))).toEqual({ resetPassword: true });
    expect(codeOf(await api.gql(RESET, { t: first, p: 'yet another password' }))).toBe('INVALID_TOKEN');

    await ok(api.gql(REQUEST_RESET, { e: user.user.email }));
    const third = SmtpCatcher.tokenIn(await smtp.waitFor(user.user.email, /^Reset your/, 3), '/reset-password');
    clock.advance(31 * 60 * 1000);
    expect(codeOf(await api.gql(RESET, { t: third, p: 'yet another password' }))).toBe('INVALID_TOKEN');
    await ok(logIn(user.user.email, 'a brand new password'));
  });

  it('answers true for an unknown address and mails nothing', async () => {
    const unknown = uniqueEmail('ghost');
    expect(await ok(api.gql(REQUEST_RESET, { e: unknown }))).toEqual({ requestPasswordReset: true });
    await eventsHandled(api);
    expect(smtp.to(unknown)).toEqual([]);
  });
});

describe('changing the password', () => {
  it('needs the current password, ends the other sessions (not this one) and mails a notice', async () => {
    const user = await signUp(api);
    const other = (await ok(logIn(user.user.email, user.password))).logIn;

    const wrong = await api.gql(
      CHANGE_PASSWORD,
      { c: 'not my password', n: 'a brand new password' },
      { token: user.accessToken },
    );
    expect(codeOf(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.body.errors?.[0].extensions.validationErrors).toEqual([
      { field: 'input.currentPassword', messages: ['is not your current password'] },
    ]);
    expect(codeOf(await api.gql(CHANGE_PASSWORD, { c: user.password, n: 'a brand new password' }))).toBe(
      'UNAUTHENTICATED',
    );

    expect(
      await ok(api.gql(CHANGE_PASSWORD, { c: user.password, n: 'a brand new password' }, { token: user.accessToken })),
    ).toEqual({ changePassword: true });
    expect(codeOf(await api.gql(REFRESH, { t: other.refreshToken }))).toBe('UNAUTHENTICATED');
    await ok(api.gql(REFRESH, { t: user.refreshToken }));
    await ok(logIn(user.user.email, 'a brand new password'));
    expect((await smtp.waitFor(user.user.email, /password was changed/)).text).toContain(
      'your other sessions were signed out',
    );
  });
});

describe('changing the email', () => {
  it('mails the link to the new address only and a notice to the old one; nothing changes until it is used', async () => {
    const user = await signUp(api);
    const newEmail = uniqueEmail('moved');
    expect(
      codeOf(await api.gql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: 'wrong password' }, { token: user.accessToken })),
    ).toBe('BAD_USER_INPUT');
    expect(
      codeOf(
        await api.gql(REQUEST_EMAIL_CHANGE, { e: user.user.email, p: user.password }, { token: user.accessToken }),
      ),
    ).toBe('BAD_USER_INPUT');
    expect(
      await ok(api.gql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: user.password }, { token: user.accessToken })),
    ).toEqual({ requestEmailChange: true });

    const confirm = await smtp.waitFor(newEmail, /^Confirm your new email/);
    const token = SmtpCatcher.tokenIn(confirm, '/confirm-email');
    const notice = await smtp.waitFor(user.user.email, /change of your .* email was requested/);
    expect(notice.text).not.toContain('/confirm-email');
    expect(smtp.to(user.user.email).some((mail) => mail.text.includes(token))).toBe(false);

    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.email).toBe(user.user.email);
    expect(codeOf(await logIn(newEmail, user.password))).toBe('UNAUTHENTICATED');

    expect(await ok(api.gql(CONFIRM_EMAIL_CHANGE, { t: token }))).toEqual({ confirmEmailChange: true });
    expect(codeOf(await api.gql(CONFIRM_EMAIL_CHANGE, { t: token }))).toBe('INVALID_TOKEN');
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me).toMatchObject({
      email: newEmail,
      emailVerified: true,
    });
    await ok(logIn(newEmail, user.password));
    expect(codeOf(await logIn(user.user.email, user.password))).toBe('UNAUTHENTICATED');
    expect((await smtp.waitFor(user.user.email, /email was changed/)).text).toContain('new email address');
  });

  it('is CONFLICT when another account took the address before the link was used', async () => {
    const user = await signUp(api);
    const newEmail = uniqueEmail('contested');
    await ok(api.gql(REQUEST_EMAIL_CHANGE, { e: newEmail, p: user.password }, { token: user.accessToken }));
    const token = SmtpCatcher.tokenIn(await smtp.waitFor(newEmail, /^Confirm your new email/), '/confirm-email');
    await signUp(api, { email: newEmail });
    expect(codeOf(await api.gql(CONFIRM_EMAIL_CHANGE, { t: token }))).toBe('CONFLICT');
    expect((await ok(api.gql(ME, {}, { token: user.accessToken }))).me.email).toBe(user.user.email);
  });
});

describe('sessions', () => {
  it('lists live sessions with the current one marked, ends one, and ends them all', async () => {
    const user = await signUp(api);
    const laptop = (await ok(logIn(user.user.email, user.password, 'Laptop/1.0'))).logIn;
    const phone = (await ok(logIn(user.user.email, user.password, 'Phone/2.0'))).logIn;

    const listed = (await ok(api.gql(MY_SESSIONS, {}, { token: laptop.accessToken }))).mySessions as Record<
      string,
      any
    >[];
    expect(listed).toHaveLength(3);
    const current = listed.filter((session) => session.current);
    expect(current).toEqual([expect.objectContaining({ userAgent: 'Laptop/1.0', ipAddress: '127.0.0.1' })]);
    const phoneSession = listed.find((session) => session.userAgent === 'Phone/2.0')!;
    expect(phoneSession.current).toBe(false);

    // A refresh records the use: its user agent and time.
    const refreshed = (
      await ok(api.gql(REFRESH, { t: phone.refreshToken }, { headers: { 'user-agent': 'Phone/2.1' } }))
    ).refreshSession;
    const afterRefresh = (await ok(api.gql(MY_SESSIONS, {}, { token: refreshed.accessToken }))).mySessions as Record<
      string,
      any
    >[];
    expect(afterRefresh.find((session) => session.id === phoneSession.id)).toMatchObject({
      userAgent: 'Phone/2.1',
      current: true,
    });

    const stranger = await signUp(api);
    expect(codeOf(await api.gql(REVOKE_SESSION, { id: phoneSession.id }, { token: stranger.accessToken }))).toBe(
      'NOT_FOUND',
    );
    expect(
      codeOf(
        await api.gql(REVOKE_SESSION, { id: '00000000-0000-4000-8000-000000000000' }, { token: laptop.accessToken }),
      ),
    ).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(REVOKE_SESSION, { id: phoneSession.id }))).toBe('UNAUTHENTICATED');

    expect(await ok(api.gql(REVOKE_SESSION, { id: phoneSession.id }, { token: laptop.accessToken }))).toEqual({
      revokeSession: true,
    });
    expect(codeOf(await api.gql(REFRESH, { t: refreshed.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await api.gql(REVOKE_SESSION, { id: phoneSession.id }, { token: laptop.accessToken }))).toBe(
      'NOT_FOUND',
    );
    expect(((await ok(api.gql(MY_SESSIONS, {}, { token: laptop.accessToken }))).mySessions as unknown[]).length).toBe(
      2,
    );

    expect(await ok(api.gql(LOG_OUT_EVERYWHERE, {}, { token: laptop.accessToken }))).toEqual({ logOutEverywhere: 2 });
    for (const refreshToken of [user.refreshToken, laptop.refreshToken])
      expect(codeOf(await api.gql(REFRESH, { t: refreshToken }))).toBe('UNAUTHENTICATED');
    expect((await ok(api.gql(MY_SESSIONS, {}, { token: laptop.accessToken }))).mySessions).toEqual([]);
  });
});

describe('deleting the account', () => {
  async function commentAs(owner: Session, author: Session, organizationId: string) {
    const project = await createProject(api, owner, organizationId);
    const task = await createTask(api, owner, project.id);
    await ok(
      api.gql(
        ADD_COMMENT,
        { input: { taskId: task.id, body: 'Written before leaving' } },
        { token: author.accessToken },
      ),
    );
    return task.id;
  }

  it('needs the password; leaves every organization, anonymizes what the user wrote, ends sessions and emits user.deleted without the email', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Left behind');
    const member = await addMember(owner, organization.id, 'ADMIN');
    const taskId = await commentAs(owner, member, organization.id);

    expect(codeOf(await api.gql(DELETE_ACCOUNT, { p: 'not my password' }, { token: member.accessToken }))).toBe(
      'BAD_USER_INPUT',
    );
    const deleted = await api.gql(
      DELETE_ACCOUNT,
      { p: member.password },
      { token: member.accessToken, headers: { 'x-request-id': `delete-${member.user.id}` } },
    );
    expect(deleted.body).toMatchObject({ data: { deleteAccount: true } });

    const comments = await ok(
      api.gql(
        `query($id: ID!) { task(id: $id) { comments { edges { node { body author { id name email } } } } } }`,
        { id: taskId },
        { token: owner.accessToken },
      ),
    );
    expect(comments.task.comments.edges).toEqual([
      { node: { body: 'Written before leaving', author: { id: member.user.id, name: 'former member', email: null } } },
    ]);
    const members = await ok(
      api.gql(
        `query($id: ID!) { organization(id: $id) { members { totalCount edges { node { user { id } role } } } } }`,
        { id: organization.id },
        { token: owner.accessToken },
      ),
    );
    expect(members.organization.members).toEqual({
      totalCount: 1,
      edges: [{ node: { user: { id: owner.user.id }, role: 'OWNER' } }],
    });

    expect(codeOf(await logIn(member.user.email, member.password))).toBe('UNAUTHENTICATED');
    expect(codeOf(await api.gql(REFRESH, { t: member.refreshToken }))).toBe('UNAUTHENTICATED');
    const [row] = (await api.app.dataSource.query(
      `SELECT email, name, password_hash, deleted_at FROM users WHERE id = $1`,
      [member.user.id],
    )) as Record<string, unknown>[];
    expect(row).toMatchObject({
      email: `deleted-${member.user.id}@deleted.invalid`,
      name: 'former member',
      password_hash: '',
    });
    expect(row.deleted_at).not.toBeNull();
    for (const table of ['sessions', 'refresh_tokens', 'account_tokens']) {
      expect(await api.app.dataSource.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [member.user.id])).toEqual([]);
    }

    const events = (await api.app.dataSource.query(
      `SELECT type, organization_id AS "organizationId", data FROM outbox WHERE request_id = $1 ORDER BY position`,
      [`delete-${member.user.id}`],
    )) as { type: string; organizationId: string | null; data: unknown }[];
    expect(events.map((event) => event.type)).toEqual(['member.removed', 'user.deleted']);
    expect(events[1]).toEqual({ type: 'user.deleted', organizationId: null, data: { userId: member.user.id } });
    expect(JSON.stringify(events)).not.toContain(member.user.email);

    await eventsHandled(api);
    const audit = await ok(
      api.gql(
        `query($id: ID!) { auditEvents(organizationId: $id, first: 100) { edges { node { type summary data actor { id } } } } }`,
        { id: organization.id },
        { token: owner.accessToken },
      ),
    );
    const removal = (audit.auditEvents.edges as { node: Record<string, any> }[]).find(
      (edge) => edge.node.type === 'member.removed',
    )!.node;
    expect(removal).toMatchObject({
      summary: 'left the organization by deleting their account',
      actor: { id: member.user.id },
    });
    expect(JSON.stringify(removal)).not.toContain(member.user.email);

    // The address is free again.
    await signUp(api, { email: member.user.email });
  });

  describe('against a mail handler preparing a token at the same moment', () => {
    const tokensOf = async (userId: string) =>
      (await api.app.dataSource.query(`SELECT purpose FROM account_tokens WHERE user_id = $1`, [userId])) as unknown[];
    const tokenFor = (userId: string, email: string) => ({
      userId,
      purpose: 'reset_password' as const,
      tokenHash: hashOpaqueToken(newOpaqueToken()),
      email,
      expiresAt: new Date(Date.now() + 60_000),
    });
    /** Until some session of the test database waits for a row lock. */
    const someoneWaitsForALock = () =>
      waitFor(async () => {
        const rows = (await api.app.dataSource.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )) as unknown[];
        return rows.length > 0;
      }, 'a session to wait for the account row');

    it('stores no token for an account already deleted', async () => {
      const user = await signUp(api);
      await eventsHandled(api);
      await ok(api.gql(DELETE_ACCOUNT, { p: user.password }, { token: user.accessToken }));
      const stored = await new AccountTokensRepository(api.app.dataSource.manager).insertForLiveUser(
        tokenFor(user.user.id, user.user.email),
      );
      expect(stored).toBe(false);
      expect(await tokensOf(user.user.id)).toEqual([]);
    });

    // Two sessions at once: PostgreSQL only (the embedded database has one connection).
    (usingPostgres ? it : it.skip)(
      'a deletion holding the account row: the token waits, then is not stored',
      async () => {
        const user = await signUp(api);
        await eventsHandled(api);
        const deletion = api.app.dataSource.createQueryRunner();
        await deletion.connect();
        try {
          await deletion.startTransaction();
          await deletion.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [user.user.id]);
          const stored = new AccountTokensRepository(api.app.dataSource.manager).insertForLiveUser(
            tokenFor(user.user.id, user.user.email),
          );
          await someoneWaitsForALock();
          await deletion.query(`DELETE FROM account_tokens WHERE user_id = $1`, [user.user.id]);
          await deletion.query(`UPDATE users SET deleted_at = now() WHERE id = $1`, [user.user.id]);
          await deletion.commitTransaction();
          expect(await stored).toBe(false);
        } finally {
          await deletion.release();
        }
        expect(await tokensOf(user.user.id)).toEqual([]);
      },
    );

    (usingPostgres ? it : it.skip)(
      'a token being stored: deleteAccount waits for it, then deletes it with the account',
      async () => {
        const user = await signUp(api);
        await eventsHandled(api);
        const handler = api.app.dataSource.createQueryRunner();
        await handler.connect();
        try {
          await handler.startTransaction();
          expect(
            await new AccountTokensRepository(handler.manager).insertForLiveUser(
              tokenFor(user.user.id, user.user.email),
            ),
          ).toBe(true);
          const deleted = api.gql(DELETE_ACCOUNT, { p: user.password }, { token: user.accessToken });
          await someoneWaitsForALock();
          await handler.commitTransaction();
          expect((await deleted).body).toMatchObject({ data: { deleteAccount: true } });
        } finally {
          await handler.release();
        }
        expect(await tokensOf(user.user.id)).toEqual([]);
      },
    );
  });

  it('refuses the last OWNER of an organization (CONFLICT naming it) and changes nothing; once another OWNER exists, it goes', async () => {
    const owner = await signUp(api);
    const solo = await createOrganization(api, owner, 'Solo');
    const shared = await createOrganization(api, owner, 'Shared');
    const colleague = await addMember(owner, shared.id, 'OWNER');

    const refused = await api.gql(DELETE_ACCOUNT, { p: owner.password }, { token: owner.accessToken });
    expect(codeOf(refused)).toBe('CONFLICT');
    expect(refused.body.errors?.[0].extensions.organizationIds).toEqual([solo.id]);
    expect(refused.body.errors?.[0].message).toMatch(/last OWNER/);
    await ok(logIn(owner.user.email, owner.password));
    const stillThere = await ok(
      api.gql(
        `query($id: ID!) { organization(id: $id) { viewerRole } }`,
        { id: shared.id },
        { token: owner.accessToken },
      ),
    );
    expect(stillThere.organization.viewerRole).toBe('OWNER');

    const soloMember = await addMember(owner, solo.id, 'MEMBER');
    await ok(
      api.gql(
        `mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id } }`,
        { input: { membershipId: soloMember.membershipId, role: 'OWNER' } },
        { token: owner.accessToken },
      ),
    );
    expect(await ok(api.gql(DELETE_ACCOUNT, { p: owner.password }, { token: owner.accessToken }))).toEqual({
      deleteAccount: true,
    });
    for (const [organization, session] of [
      [solo, soloMember],
      [shared, colleague],
    ] as const) {
      const members = await ok(
        api.gql(
          `query($id: ID!) { organization(id: $id) { members { edges { node { role user { id } } } } } }`,
          { id: organization.id },
          { token: session.accessToken },
        ),
      );
      expect(members.organization.members.edges).toEqual([{ node: { role: 'OWNER', user: { id: session.user.id } } }]);
    }
  });
});

describe('the identity module’s events', () => {
  it('publishes every type of its catalog in the flows above (user.sign_up_repeated in quiet mode: account-enumeration.test.ts), none with an organization', async () => {
    const rows = (await api.app.dataSource.query(
      `SELECT DISTINCT type, organization_id AS "organizationId" FROM outbox WHERE type LIKE 'user.%'`,
    )) as { type: string; organizationId: string | null }[];
    const declared = Object.keys(identityEvents).filter((type) => type !== 'user.sign_up_repeated');
    expect(rows.map((row) => row.type).sort()).toEqual(declared.sort());
    expect(rows.every((row) => row.organizationId === null)).toBe(true);
  });
});
