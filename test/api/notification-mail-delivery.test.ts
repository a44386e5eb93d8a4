import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createOrganization, type Session } from '../support/organizations';
import { spawnApp, type AppProcess } from '../support/child-process';
import { createProject, createTask } from '../support/projects';
import {
  digestRowsOf,
  digestStates,
  digestsTo,
  startMailApp,
  verifiedMember,
  verifiedUser,
  WINDOW_MS,
} from '../support/notification-mail';
import { headersOf, SmtpCatcher, TestClock } from '../support/smtp-catcher';
import type { TestApp } from '../support/test-app';
import { startStandaloneDatabase } from '../support/standalone-database';
import { startTcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { UnsubscribeTokens } from '../../src/modules/notifications/unsubscribe-tokens';
import { eventsHandled, waitFor } from '../support/wait';

const CLAIM_MS = 15 * 60_000;

const smtp = new SmtpCatcher();
beforeAll(() => smtp.start());
afterAll(() => smtp.stop());
afterEach(() => {
  smtp.beforeReply = undefined;
});

/** An organization with a project, its owner, on `api`. */
async function workspace(api: TestApp) {
  const owner = await verifiedUser(api, smtp);
  const organizationId = (await createOrganization(api, owner, 'Delivered')).id;
  const projectId = (await createProject(api, owner, organizationId)).id;
  return { owner, organizationId, projectId };
}

describe('one instance', () => {
  const clock = new TestClock();
  let api: TestApp;
  let space: Awaited<ReturnType<typeof workspace>>;

  beforeAll(async () => {
    api = await startMailApp(smtp, clock);
    space = await workspace(api);
  });
  afterAll(() => api?.stop());

  async function assignedMember(title: string): Promise<Session> {
    const member = await verifiedMember(api, smtp, space.owner, space.organizationId);
    await createTask(api, space.owner, space.projectId, { title, assigneeId: member.user.id });
    await eventsHandled(api);
    return member;
  }

  it('never mails a digest twice when its outcome goes unrecorded after SMTP accepted it: the lapsed claim is UNCERTAIN', async () => {
    const carol = await assignedMember('Before the crash');
    // The record after the send fails as if the process had died there: its table is gone while SMTP answers.
    let away = false;
    smtp.beforeReply = async (mail) => {
      if (!mail.to.includes(carol.user.email) || away) return;
      away = true;
      await api.app.dataSource.query(`ALTER TABLE notification_digests RENAME TO notification_digests_away`);
    };
    clock.advance(WINDOW_MS);
    await waitFor(() => api.logs.find('notification digest not recorded').length > 0, 'the failed record');
    await api.app.dataSource.query(`ALTER TABLE notification_digests_away RENAME TO notification_digests`);
    expect(digestsTo(smtp, carol.user.email)).toHaveLength(1);
    const [handed] = await digestRowsOf(api, carol.user.id);
    expect(handed).toMatchObject({ status: 'SENDING', attempts: 1, handed_at: expect.any(Date) });

    clock.advance(CLAIM_MS + 1000);
    const [uncertain] = await digestStates(api, carol.user.id, ['UNCERTAIN']);
    expect(uncertain.last_error).toMatch(/after handing it to SMTP/);
    expect(api.logs.find(/^notification digest outcome unknown/)).toEqual([
      expect.objectContaining({ level: 'warn', digestId: uncertain.id }),
    ]);

    // The sender goes on: the next notification is the next digest, and the first is not in it.
    await createTask(api, space.owner, space.projectId, { title: 'After the crash', assigneeId: carol.user.id });
    await eventsHandled(api);
    clock.advance(WINDOW_MS);
    await digestStates(api, carol.user.id, ['UNCERTAIN', 'SENT']);
    const mails = digestsTo(smtp, carol.user.email);
    expect(mails).toHaveLength(2);
    expect(mails[0].text).toContain('Before the crash');
    expect(mails[1].text).toContain('After the crash');
    expect(mails[1].text).not.toContain('Before the crash');
    expect(headersOf(mails[1].raw)['message-id']).not.toBe(headersOf(mails[0].raw)['message-id']);
  });

  it('sends, once, a digest whose sender died after claiming it and before handing it to SMTP', async () => {
    const dave = await assignedMember('Claimed by the dead');
    const [open] = await digestRowsOf(api, dave.user.id);
    // What a sender's claim leaves when the sender dies before its next statement.
    await api.app.dataSource.query(
      `UPDATE notification_digests SET status = 'SENDING', attempts = attempts + 1, claimed_until = $2 WHERE id = $1`,
      [open.id, new Date(clock.now().getTime() + CLAIM_MS)],
    );
    clock.advance(WINDOW_MS);
    expect(digestsTo(smtp, dave.user.email)).toEqual([]);
    clock.advance(CLAIM_MS);
    const [sent] = await digestStates(api, dave.user.id, ['SENT']);
    expect(sent.attempts).toBe(2);
    expect(digestsTo(smtp, dave.user.email)).toHaveLength(1);
  });

  it('retries a digest the SMTP server refuses, after a backoff, with the same Message-ID', async () => {
    const erin = await assignedMember('Refused once');
    let refused = 0;
    smtp.beforeReply = async (mail) => {
      if (mail.to.includes(erin.user.email) && refused === 0) {
        refused += 1;
        return 451;
      }
    };
    clock.advance(WINDOW_MS);
    const [retrying] = await digestStates(api, erin.user.id, ['RETRYING']);
    expect(retrying).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/451/) });
    expect(retrying.due_at.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(digestsTo(smtp, erin.user.email)).toEqual([]);

    clock.advance(60 * 60_000);
    const [sent] = await digestStates(api, erin.user.id, ['SENT']);
    expect(sent.attempts).toBe(2);
    const mails = digestsTo(smtp, erin.user.email);
    expect(mails).toHaveLength(1);
    expect(headersOf(mails[0].raw)['message-id']).toBe(sent.message_id);
  });
});

(usingPostgres ? describe : describe.skip)('two instances on one PostgreSQL database', () => {
  const clock = new TestClock();
  const instances: TestApp[] = [];
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = { EVENTS_TRANSPORT: 'inline', JWT_SECRET: randomBytes(32).toString('base64url') };
    for (let index = 0; index < 2; index += 1) instances.push(await startMailApp(smtp, clock, shared, database));
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await database?.drop();
  });

  it('send each digest once, whichever instance claims it', async () => {
    const [first, second] = instances;
    const space = await workspace(first);
    const members: Session[] = [];
    for (let index = 0; index < 6; index += 1) {
      const api = index % 2 ? first : second;
      const member = await verifiedMember(api, smtp, space.owner, space.organizationId);
      await createTask(api, space.owner, space.projectId, { title: `Task ${index}`, assigneeId: member.user.id });
      members.push(member);
    }
    await eventsHandled(first);
    await eventsHandled(second);
    clock.advance(WINDOW_MS);
    for (const member of members) await digestStates(first, member.user.id, ['SENT']);
    for (const member of members) expect(digestsTo(smtp, member.user.email)).toHaveLength(1);
  });
});

(usingPostgres ? describe : describe.skip)('a sender killed between SMTP acceptance and its record', () => {
  const clock = new TestClock();
  let database: TestDatabase;
  let api: TestApp;
  let survivor: TestApp | undefined;
  let doomed: AppProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    // This instance only writes (its sender looks once an hour); the doomed process sends, on the system clock.
    api = await startMailApp(
      smtp,
      clock,
      { EVENTS_TRANSPORT: 'inline', NOTIFICATION_MAIL_POLL_INTERVAL_MS: '3600000', NOTIFICATION_DIGEST_WINDOW: '1s' },
      database,
    );
  });
  afterAll(async () => {
    doomed?.child.kill('SIGKILL');
    await survivor?.stop();
    await api?.stop();
    await database?.drop();
  });

  it('does not mail the digest again: the claim it leaves becomes UNCERTAIN', async () => {
    const space = await workspace(api);
    const gina = await verifiedMember(api, smtp, space.owner, space.organizationId);
    const lock = new Client({ connectionString: database.env.DATABASE_URL });
    // Its own session: inside the lock's transaction, pg_stat_activity would stay the snapshot of its first read.
    const watch = new Client({ connectionString: database.env.DATABASE_URL });
    await lock.connect();
    await watch.connect();
    const lockPid = ((await lock.query('SELECT pg_backend_pid() AS pid')) as { rows: { pid: number }[] }).rows[0].pid;
    try {
      // While SMTP answers, the test locks the digest: the sender's record then waits, and the sender is killed there.
      smtp.beforeReply = async (mail) => {
        if (!mail.to.includes(gina.user.email)) return;
        await lock.query('BEGIN');
        await lock.query(`SELECT 1 FROM notification_digests WHERE user_id = $1 FOR UPDATE`, [gina.user.id]);
      };
      doomed = spawnApp({
        ...database.env,
        ...smtp.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        JWT_SECRET: randomBytes(32).toString('base64url'),
        EVENTS_TRANSPORT: 'inline',
        MAIL_FROM: 'Acme <notify@example.test>',
        NOTIFICATION_MAIL_POLL_INTERVAL_MS: '20',
      });
      await doomed.ready;
      await createTask(api, space.owner, space.projectId, { title: 'Killed mid-record', assigneeId: gina.user.id });
      await eventsHandled(api);
      const blocked = await waitFor(async () => {
        const rows = (await watch.query(
          `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE 'UPDATE notification_digests%'`,
          [lockPid],
        )) as { rows: { pid: number }[] };
        return rows.rows[0]?.pid;
      }, 'the record to wait on the lock').catch(async (error: Error) => {
        const rows = JSON.stringify(await digestRowsOf(api, gina.user.id));
        const mails = digestsTo(smtp, gina.user.email).length;
        throw new Error(`${error.message}; digests ${rows}; mails ${mails}; sender output:\n${doomed?.output()}`);
      });
      doomed.child.kill('SIGKILL');
      expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });
      // The server would notice the dead client only when it next writes to it: end its session now.
      await lock.query('SELECT pg_terminate_backend($1)', [blocked]);
      await lock.query('ROLLBACK');
    } finally {
      await lock.end();
      await watch.end();
    }
    expect(digestsTo(smtp, gina.user.email)).toHaveLength(1);
    const [handed] = await digestRowsOf(api, gina.user.id);
    expect(handed).toMatchObject({ status: 'SENDING', handed_at: expect.any(Date) });

    const later = new TestClock();
    later.advance(CLAIM_MS + 60_000);
    survivor = await startMailApp(smtp, later, { EVENTS_TRANSPORT: 'inline' }, database);
    await digestStates(survivor, gina.user.id, ['UNCERTAIN']);
    expect(digestsTo(smtp, gina.user.email)).toHaveLength(1);
  });
});

describe('the unsubscribe link while the database is unreachable', () => {
  it('answers 503 with Retry-After while the database is unreachable, and works once it is back', async () => {
    const database = await startStandaloneDatabase();
    const proxy = await startTcpProxy({ host: database.host, port: database.port });
    const secret = randomBytes(32).toString('base64url');
    const env = { DATABASE_URL: database.urlVia('127.0.0.1', proxy.port), DATABASE_POOL_MAX: String(database.poolMax) };
    const clock = new TestClock();
    const api = await startMailApp(
      smtp,
      clock,
      { JWT_SECRET: secret, READINESS_TIMEOUT_MS: '1000' },
      {
        env,
        drop: async () => undefined,
      },
    );
    try {
      const user = await verifiedUser(api, smtp);
      const token = new UnsubscribeTokens([secret]).issue(user.user.id, new Date(clock.now().getTime() + 60_000));
      const url = `${api.baseUrl}/notifications/unsubscribe?token=${token}`;
      await proxy.cut();
      try {
        const answer = await fetch(url, { method: 'POST' });
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('5');
        expect(await answer.text()).not.toMatch(/ECONNREFUSED|terminat|127\.0\.0\.1/i);
      } finally {
        await proxy.restore();
      }
      const done = await waitFor(async () => {
        const answer = await fetch(url, { method: 'POST' });
        return answer.status === 200 ? answer : undefined;
      }, 'the unsubscribe to work again');
      expect(await done.text()).toContain('No more notification mail');
    } finally {
      await api.stop();
      await proxy.close();
      await database.stop();
    }
  });
});
