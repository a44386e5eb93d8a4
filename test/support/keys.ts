import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../src/modules/webhooks';
import { FAST_EVENTS } from './events';
import { ok, type Session } from './organizations';
import type { TestApp } from './test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from './test-database';
import { waitFor } from './wait';
import type { WebhookReceiver } from './webhook-receiver';

/** Local receivers over plain http, polled often, retried after a second. */
export const KEYS_TEST_ENV = {
  ...FAST_EVENTS,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_HTTP_HOSTS: '127.0.0.1,localhost',
  WEBHOOK_POLL_INTERVAL_MS: '100',
  WEBHOOK_RETRY_SCHEDULE: '1s',
  WEBHOOK_TIMEOUT_MS: '2000',
};

const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }`;

/** A DATA_ENCRYPTION_KEYS entry: `id:` and 32 random bytes in base64. */
export function dataKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export const jwtSecret = () => randomBytes(32).toString('base64url');

/** A secret sealed as releases before DATA_ENCRYPTION_KEYS did (`v1:`, a key derived from JWT_SECRET): the rows an upgrade finds. */
export function legacySeal(jwtSecretValue: string, plain: string): string {
  const key = Buffer.from(hkdfSync('sha256', jwtSecretValue, 'groundwork', 'webhook endpoint secrets', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
}

/**
 * A database that outlives the apps started on it, one after another: a
 * PostgreSQL database of its own, or an embedded data directory (one process
 * at a time, so each app stops before the next starts).
 */
export async function persistentDatabase(): Promise<TestDatabase> {
  if (usingPostgres) return createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'gw-keys-'));
  return { env: { DATABASE_EMBEDDED_PATH: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A webhook endpoint for task.created at `url`; its id and the secret shown once. */
export async function createEndpoint(
  api: TestApp,
  owner: Session,
  organizationId: string,
  url: string,
): Promise<{ id: string; secret: string }> {
  const data = await ok(
    api.gql(
      CREATE_ENDPOINT,
      { input: { organizationId, url, eventTypes: ['task.created'] } },
      { token: owner.accessToken },
    ),
  );
  return { id: data.createWebhookEndpoint.endpoint.id as string, secret: data.createWebhookEndpoint.secret as string };
}

/** Waits for the webhook of task `taskId` at `path` and says whether its signature verifies with `secret`. */
export async function signedDelivery(
  receiver: WebhookReceiver,
  path: string,
  taskId: string,
  secret: string,
): Promise<boolean> {
  const request = await waitFor(
    () => receiver.received.find((entry) => entry.path === path && entry.body.includes(taskId)),
    `the webhook of ${taskId} at ${path}`,
    30_000,
  );
  return verifyWebhookSignature(secret, request.headers as Record<string, string>, request.body);
}

/** The sealed secret of each endpoint, by id. */
export async function sealedSecrets(api: TestApp): Promise<Record<string, string>> {
  const rows = (await api.app.dataSource.query('SELECT id, secret_sealed FROM webhook_endpoints')) as {
    id: string;
    secret_sealed: string;
  }[];
  return Object.fromEntries(rows.map((row) => [row.id, row.secret_sealed]));
}

/** An endpoint row written as another release or instance would have sealed it, bypassing the API. */
export async function insertEndpoint(
  api: TestApp,
  owner: Session,
  organizationId: string,
  url: string,
  secretSealed: string,
): Promise<void> {
  await api.app.dataSource.query(
    `INSERT INTO webhook_endpoints (organization_id, url, event_types, secret_sealed, created_by_id) VALUES ($1, $2, '{task.created}', $3, $4)`,
    [organizationId, url, secretSealed, owner.user.id],
  );
}

/** The session again, with an access token from this app (signed with its JWT_SECRET). */
export async function logIn(api: TestApp, owner: Session): Promise<Session> {
  const data = await ok(api.gql(LOG_IN, { input: { email: owner.user.email, password: owner.password } }));
  return { ...owner, accessToken: data.logIn.accessToken as string };
}
