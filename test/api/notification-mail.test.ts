import { createOrganization, ok, type Session } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import {
  digestRowsOf,
  digestStates,
  digestsTo,
  PREFERENCES,
  PUBLIC_API_URL,
  startMailApp,
  UPDATE_PREFERENCES,
  verifiedMember,
  verifiedUser,
  WINDOW_MS,
} from '../support/notification-mail';
import { headersOf, SmtpCatcher, TestClock } from '../support/smtp-catcher';
import type { TestApp } from '../support/test-app';
import { eventsHandled, waitFor } from '../support/wait';

const DELETE_ACCOUNT = `mutation($p: String!) { deleteAccount(input: { password: $p }) }`;
/** This file's NOTIFICATION_DIGEST_RETENTION (30 days by default), and a little more. */
const RETENTION_MS = 24 * 60 * 60_000 + 60_000;
const NOTIFICATIONS = `{ notifications(first: 100) { totalCount edges { node { type message } } } }`;

const smtp = new SmtpCatcher();
const clock = new TestClock();
let api: TestApp;
let owner: Session;
let organizationId: string;
let projectId: string;

beforeAll(async () => {
  await smtp.start();
  api = await startMailApp(smtp, clock, { NOTIFICATION_DIGEST_RETENTION: '1d' });
  owner = await verifiedUser(api, smtp);
  organizationId = (await createOrganization(api, owner, 'Mailed')).id;
  projectId = (await createProject(api, owner, organizationId)).id;
});

afterAll(async () => {
  await api?.stop();
  await smtp.stop();
});

const preferencesOf = async (session: Session) =>
  (await ok(api.gql(PREFERENCES, {}, { token: session.accessToken }))).notificationPreferences as {
    type: string;
    inApp: boolean;
    mail: boolean;
    mailByDefault: boolean;
  }[];

const choose = (session: Session, mail: { type: string; mail: boolean }[]) =>
  ok(api.gql(UPDATE_PREFERENCES, { input: { mail } }, { token: session.accessToken }));

/** The link of a digest mail, as the List-Unsubscribe header and the text carry it, made to reach this test's app. */
function unsubscribeLink(raw: string): { url: string; local: string; token: string } {
  const header = headersOf(raw)['list-unsubscribe'];
  const url = /^<([^>]+)>$/.exec(header)?.[1];
  if (!url) throw new Error(`no List-Unsubscribe URL in ${header}`);
  const parsed = new URL(url);
  return { url, local: `${api.baseUrl}${parsed.pathname}${parsed.search}`, token: parsed.searchParams.get('token')! };
}

const oneClick = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });

describe('notification preferences', () => {
  it('default to in-app for every type and mail for task.assigned only, and store a change for the viewer alone', async () => {
    const [alice, bob] = [await verifiedUser(api, smtp), await verifiedUser(api, smtp)];
    expect(await preferencesOf(alice)).toEqual([
      { type: 'task.assigned', description: expect.any(String), inApp: true, mail: true, mailByDefault: true },
      { type: 'comment.added', description: expect.any(String), inApp: true, mail: false, mailByDefault: false },
    ]);
    const updated = await choose(alice, [{ type: 'comment.added', mail: true }]);
    expect(updated.updateNotificationPreferences.map((row: { mail: boolean }) => row.mail)).toEqual([true, true]);
    await choose(alice, [{ type: 'task.assigned', mail: false }]);
    expect((await preferencesOf(alice)).map((row) => [row.type, row.mail])).toEqual([
      ['task.assigned', false],
      ['comment.added', true],
    ]);
    expect((await preferencesOf(bob)).map((row) => row.mail)).toEqual([true, false]);
  });

  it('answer BAD_USER_INPUT with the request id for an unknown or repeated type, and store nothing of that input', async () => {
    const carol = await verifiedUser(api, smtp);
    const unknown = await api.gql(
      UPDATE_PREFERENCES,
      {
        input: {
          mail: [
            { type: 'comment.added', mail: true },
            { type: 'task.exploded', mail: true },
          ],
        },
      },
      { token: carol.accessToken, headers: { 'x-request-id': 'prefs-unknown-1' } },
    );
    expect(unknown.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      requestId: 'prefs-unknown-1',
      validationErrors: [{ field: 'input.mail.1.type', messages: [expect.stringContaining('task.assigned')] }],
    });
    const repeated = await api.gql(
      UPDATE_PREFERENCES,
      {
        input: {
          mail: [
            { type: 'task.assigned', mail: true },
            { type: 'task.assigned', mail: false },
          ],
        },
      },
      { token: carol.accessToken },
    );
    expect(repeated.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      requestId: expect.any(String),
    });
    expect((await preferencesOf(carol)).map((row) => row.mail)).toEqual([true, false]);
    const anonymous = await api.gql(PREFERENCES);
    expect(anonymous.body.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('notification digests', () => {
  it('mail a burst of notifications as one digest per user per window, and nothing of a type the user has mail off for', async () => {
    const alice = await verifiedMember(api, smtp, owner, organizationId);
    const bob = await verifiedMember(api, smtp, owner, organizationId);
    await choose(alice, [{ type: 'comment.added', mail: true }]);
    await choose(bob, [{ type: 'task.assigned', mail: false }]);
    // Bob creates the task and assigns Alice: every comment notifies both; Bob has mail off for comments by default.
    const task = await createTask(api, bob, projectId, { title: 'Burst', assigneeId: alice.user.id });
    // Bob opted out of task.assigned: his assignment is listed in-app, never mailed.
    await createTask(api, owner, projectId, { title: 'For Bob', assigneeId: bob.user.id });
    const comments = 50;
    for (let index = 0; index < comments; index += 1) {
      await ok(
        api.gql(ADD_COMMENT, { input: { taskId: task.id, body: `comment ${index}` } }, { token: owner.accessToken }),
      );
    }
    await eventsHandled(api);
    const [open] = await digestRowsOf(api, alice.user.id);
    expect(open).toMatchObject({ status: 'OPEN', attempts: 0 });
    expect(digestsTo(smtp, alice.user.email)).toEqual([]);
    expect(await digestRowsOf(api, bob.user.id)).toEqual([]);

    clock.advance(WINDOW_MS);
    const [sent] = await digestStates(api, alice.user.id, ['SENT']);
    const mails = digestsTo(smtp, alice.user.email);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail.subject).toBe(`${comments + 1} new notifications on Acme`);
    expect(mail.text).toContain('You were assigned the task "Burst"');
    expect(mail.text.match(/New comment on the task "Burst"/g)).toHaveLength(comments);
    const headers = headersOf(mail.raw);
    expect(headers['message-id']).toBe(`<digest.${sent.id}@example.test>`);
    expect(sent.message_id).toBe(headers['message-id']);
    expect(headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const link = unsubscribeLink(mail.raw);
    expect(link.url.startsWith(`${PUBLIC_API_URL}/notifications/unsubscribe?token=`)).toBe(true);
    expect(mail.text).toContain(link.url);
    // In-app is always on: Bob has his, unmailed.
    const bobs = await ok(api.gql(NOTIFICATIONS, {}, { token: bob.accessToken }));
    expect(bobs.notifications.totalCount).toBe(comments + 1);
    expect(digestsTo(smtp, bob.user.email)).toEqual([]);

    // The next notification opens the next window's digest.
    await ok(api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'after' } }, { token: owner.accessToken }));
    await eventsHandled(api);
    clock.advance(WINDOW_MS);
    await digestStates(api, alice.user.id, ['SENT', 'SENT']);
    const second = digestsTo(smtp, alice.user.email);
    expect(second).toHaveLength(2);
    expect(second[1].subject).toBe('New comment on the task "Burst" (Acme)');
    expect(headersOf(second[1].raw)['message-id']).not.toBe(headers['message-id']);
  });

  it('unsubscribe without logging in from the link (GET asks, POST one-click acts), and refuse an altered or expired link with a 400 page', async () => {
    const dave = await verifiedMember(api, smtp, owner, organizationId);
    await createTask(api, owner, projectId, { title: 'For Dave', assigneeId: dave.user.id });
    await eventsHandled(api);
    clock.advance(WINDOW_MS);
    const mail = await waitFor(() => digestsTo(smtp, dave.user.email)[0], 'a digest to Dave');
    const link = unsubscribeLink(mail.raw);

    const form = await fetch(link.local);
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await form.text();
    // The page's form posts back to the link, as a browser resolves its action.
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)![1].replace(/&amp;/g, '&'), link.local);
    expect((await preferencesOf(dave)).map((row) => row.mail)).toEqual([true, false]);

    const [userId, expiry, signature] = link.token.split('.');
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    const forged = [
      `${userId}.${expiry}.${flipped}`,
      `${owner.user.id}.${expiry}.${signature}`,
      `${userId}.${Number(expiry) + 60}.${signature}`,
      'garbage',
      '',
    ];
    for (const token of forged) {
      const refused = await oneClick(`${api.baseUrl}/notifications/unsubscribe?token=${encodeURIComponent(token)}`);
      expect(refused.status).toBe(400);
      const page = await refused.text();
      expect(page).toContain('This unsubscribe link is not valid');
      expect(page).toContain(refused.headers.get('x-request-id')!);
    }
    expect((await oneClick(`${api.baseUrl}/notifications/unsubscribe`)).status).toBe(400);
    expect((await preferencesOf(dave)).map((row) => row.mail)).toEqual([true, false]);

    const done = await oneClick(action.toString());
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('No more notification mail');
    expect((await preferencesOf(dave)).map((row) => row.mail)).toEqual([false, false]);
    expect((await oneClick(link.local)).status).toBe(200);

    // Unsubscribed: a new assignment is listed in-app and opens no digest.
    await createTask(api, owner, projectId, { title: 'Unmailed', assigneeId: dave.user.id });
    await eventsHandled(api);
    expect((await digestRowsOf(api, dave.user.id)).map((row) => row.status)).toEqual(['SENT']);

    clock.advance(60 * 60_000 + 1000);
    const expired = await oneClick(link.local);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('This unsubscribe link has expired');
    expect((await fetch(link.local)).status).toBe(400);
  });

  it('drop the pending digests and the preferences of a deleted account, and mail it nothing', async () => {
    const erin = await verifiedMember(api, smtp, owner, organizationId);
    const frank = await verifiedMember(api, smtp, owner, organizationId);
    await choose(erin, [{ type: 'comment.added', mail: true }]);
    await createTask(api, owner, projectId, { title: 'For Erin', assigneeId: erin.user.id });
    await createTask(api, owner, projectId, { title: 'For Frank', assigneeId: frank.user.id });
    await eventsHandled(api);
    expect((await digestRowsOf(api, erin.user.id)).map((row) => row.status)).toEqual(['OPEN']);

    await ok(api.gql(DELETE_ACCOUNT, { p: erin.password }, { token: erin.accessToken }));
    await eventsHandled(api);
    expect(await digestRowsOf(api, erin.user.id)).toEqual([]);
    const left = (await api.app.dataSource.query(
      `SELECT (SELECT count(*) FROM notification_mail_preferences WHERE user_id = $1)::int AS preferences,
              (SELECT count(*) FROM notifications WHERE user_id = $1)::int AS notifications`,
      [erin.user.id],
    )) as { preferences: number; notifications: number }[];
    expect(left).toEqual([{ preferences: 0, notifications: 0 }]);

    clock.advance(WINDOW_MS);
    // Frank's digest of the same window is the sign that the sender has been past Erin's.
    await digestStates(api, frank.user.id, ['SENT']);
    expect(digestsTo(smtp, erin.user.email)).toEqual([]);
  });

  // Last in the file: its clock moves past the retention, so every finished digest before it may go.
  it('delete a finished digest once it is past NOTIFICATION_DIGEST_RETENTION, keeping its notifications and the digests still in their time', async () => {
    const gina = await verifiedMember(api, smtp, owner, organizationId);
    await createTask(api, owner, projectId, { title: 'For Gina', assigneeId: gina.user.id });
    await eventsHandled(api);
    clock.advance(WINDOW_MS);
    const [old] = await digestStates(api, gina.user.id, ['SENT']);

    clock.advance(RETENTION_MS);
    await createTask(api, owner, projectId, { title: 'For Gina, later', assigneeId: gina.user.id });
    await eventsHandled(api);
    clock.advance(WINDOW_MS);
    // The sender's next hourly pruning (the clock moved a day) takes the old one; the new one is a minute old.
    const [kept] = await digestStates(api, gina.user.id, ['SENT']);
    expect(kept.id).not.toBe(old.id);
    expect(api.logs.find('notification digests past retention deleted')).not.toEqual([]);
    const notifications = (await api.app.dataSource.query(
      `SELECT mail_digest_id AS "digestId" FROM notifications WHERE user_id = $1 ORDER BY created_at`,
      [gina.user.id],
    )) as { digestId: string | null }[];
    expect(notifications).toEqual([{ digestId: null }, { digestId: kept.id }]);
  });
});
