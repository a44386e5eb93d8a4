import { ACCEPT, INVITE, ok, type Session } from './organizations';
import { headersOf, SmtpCatcher, TestClock, type CaughtMail } from './smtp-catcher';
import { signUp, startTestApp, type TestApp } from './test-app';
import type { TestDatabase } from './test-database';
import { waitFor } from './wait';

export const WINDOW_MS = 5 * 60_000;
export const PUBLIC_API_URL = 'https://api.example.test';

/** Notification mail with a fast sender; the window stays the default 5 minutes, moved by the test's clock. */
export const NOTIFICATION_MAIL_ENV = {
  NOTIFICATION_MAIL_POLL_INTERVAL_MS: '20',
  PUBLIC_API_URL,
  APP_URL: 'https://app.example.test',
  PRODUCT_NAME: 'Acme',
  MAIL_FROM: 'Acme <notify@example.test>',
  NOTIFICATION_UNSUBSCRIBE_TTL: '1h',
  // The clock moves by hours in these tests; sessions must outlive that.
  ACCESS_TOKEN_TTL: '7d',
};

export const VERIFY = `mutation($t: String!) { verifyEmail(token: $t) }`;
export const PREFERENCES = `{ notificationPreferences { type description inApp mail mailByDefault } }`;
export const UPDATE_PREFERENCES = `mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) { type inApp mail mailByDefault } }`;

/** The app on SMTP to `smtp`, with its clock. */
export function startMailApp(smtp: SmtpCatcher, clock: TestClock, env: Record<string, string> = {}, db?: TestDatabase) {
  return startTestApp({ ...smtp.env, ...NOTIFICATION_MAIL_ENV, ...env }, db, { clock });
}

/** A signed-up user whose address is verified through the mailed link (only verified addresses get digests). */
export async function verifiedUser(api: TestApp, smtp: SmtpCatcher): Promise<Session> {
  const user = await signUp(api);
  const token = SmtpCatcher.tokenIn(await smtp.waitFor(user.user.email, /^Verify your email/), '/verify-email');
  await ok(api.gql(VERIFY, { t: token }));
  return user;
}

/** A verified user who joined the organization through a real, mailed invitation. */
export async function verifiedMember(api: TestApp, smtp: SmtpCatcher, owner: Session, organizationId: string) {
  const member = await verifiedUser(api, smtp);
  const email = member.user.email;
  await ok(api.gql(INVITE, { input: { organizationId, email, role: 'MEMBER' } }, { token: owner.accessToken }));
  const token = SmtpCatcher.tokenIn(await smtp.waitFor(email, /invited to join/), '/invitations/accept');
  await ok(api.gql(ACCEPT, { token }, { token: member.accessToken }));
  return member;
}

/** Digest mails to `email`: the only mail with a List-Unsubscribe header. */
export function digestsTo(smtp: SmtpCatcher, email: string): CaughtMail[] {
  return smtp.to(email).filter((mail) => 'list-unsubscribe' in headersOf(mail.raw));
}

export interface DigestRow {
  id: string;
  status: string;
  attempts: number;
  due_at: Date;
  handed_at: Date | null;
  message_id: string | null;
  last_error: string | null;
}

export async function digestRowsOf(api: TestApp, userId: string): Promise<DigestRow[]> {
  return (await api.app.dataSource.query(
    `SELECT id, status, attempts, due_at, handed_at, message_id, last_error
       FROM notification_digests WHERE user_id = $1 ORDER BY created_at, id`,
    [userId],
  )) as DigestRow[];
}

/** Waits until the user's digests are in exactly these states, in order of creation. */
export function digestStates(api: TestApp, userId: string, states: string[]): Promise<DigestRow[]> {
  return waitFor(
    async () => {
      const rows = await digestRowsOf(api, userId);
      return JSON.stringify(rows.map((row) => row.status)) === JSON.stringify(states) ? rows : undefined;
    },
    `digests of ${userId} to be ${states.join(', ')}`,
  );
}
