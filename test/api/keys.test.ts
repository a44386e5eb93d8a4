import { decodeProtectedHeader, SignJWT } from 'jose';
import { keyIdOf, AccessTokens } from '../../src/modules/identity/tokens';
import { SecretBox } from '../../src/modules/webhooks/secret-box';
import { spawnApp } from '../support/child-process';
import {
  createEndpoint,
  dataKey,
  insertEndpoint,
  jwtSecret,
  KEYS_TEST_ENV,
  legacySeal,
  logIn,
  persistentDatabase,
  sealedSecrets,
  signedDelivery,
} from '../support/keys';
import { createOrganization } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

const ME = `{ me { id } }`;
/** Several apps start one after another on one database (embedded: from disk), so allow for a loaded machine. */
const SLOW = 180_000;

let receiver: WebhookReceiver;
let receiverUrl: string;
let database: TestDatabase | undefined;
let running: TestApp | undefined;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  receiverUrl = await receiver.start();
});

afterAll(async () => {
  await receiver?.stop();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await database?.drop();
  database = undefined;
});

/** One app at a time on the test's database (embedded PGlite allows one process per directory): the one before stops first. */
async function switchTo(env: Record<string, string>): Promise<TestApp> {
  await running?.stop();
  running = undefined;
  database ??= await persistentDatabase();
  running = await startTestApp({ ...KEYS_TEST_ENV, ...env }, database);
  return running;
}

/** An app on a database of its own, for a test that needs no second one. */
async function startOne(env: Record<string, string> = {}): Promise<TestApp> {
  running = await startTestApp({ ...KEYS_TEST_ENV, ...env });
  return running;
}

/** An owner with an organization and a project, and an endpoint at `path` for its task.created events. */
async function organizationWithEndpoint(api: TestApp, path: string) {
  const owner = await signUp(api);
  const organization = await createOrganization(api, owner);
  const project = await createProject(api, owner, organization.id);
  const endpoint = await createEndpoint(api, owner, organization.id, `${receiverUrl}${path}`);
  return { owner, organization, project, endpoint };
}

describe('data-encryption keys', () => {
  it(
    'let two instances with different JWT_SECRETs and the same DATA_ENCRYPTION_KEYS share an endpoint: one creates it, the other signs its webhook',
    async () => {
      const keys = dataKey('k1');
      const creator = await switchTo({ JWT_SECRET: jwtSecret(), DATA_ENCRYPTION_KEYS: keys });
      const { owner, project, endpoint } = await organizationWithEndpoint(creator, '/shared');
      expect((await sealedSecrets(creator))[endpoint.id]).toMatch(/^v2:k1:[A-Za-z0-9+/]+=*$/);

      const deliverer = await switchTo({ JWT_SECRET: jwtSecret(), DATA_ENCRYPTION_KEYS: keys });
      const session = await logIn(deliverer, owner);
      const task = await createTask(deliverer, session, project.id);
      expect(await signedDelivery(receiver, '/shared', task.id, endpoint.secret)).toBe(true);
    },
    SLOW,
  );

  it(
    'refuse to start when a stored secret names a key id DATA_ENCRYPTION_KEYS does not list, or a listed id holds another key',
    async () => {
      const first = await switchTo({ DATA_ENCRYPTION_KEYS: dataKey('old') });
      await organizationWithEndpoint(first, '/refused');
      await running!.stop();
      running = undefined;

      await expect(startTestApp({ ...KEYS_TEST_ENV, DATA_ENCRYPTION_KEYS: dataKey('new') }, database)).rejects.toThrow(
        '1 webhook endpoint secret(s) sealed under the data-encryption key old, which DATA_ENCRYPTION_KEYS does not list',
      );
      await expect(startTestApp({ ...KEYS_TEST_ENV, DATA_ENCRYPTION_KEYS: dataKey('old') }, database)).rejects.toThrow(
        '1 webhook endpoint secret(s) sealed under the data-encryption key old, but DATA_ENCRYPTION_KEYS lists another key under that id',
      );

      // The process: exit code 1 and the message, for whoever reads its output.
      const app = spawnApp({
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_FORMAT: 'json',
        JWT_SECRET: jwtSecret(),
        DATA_ENCRYPTION_KEYS: dataKey('new'),
        ...database!.env,
      });
      expect((await app.exited).code).toBe(1);
      expect(app.output()).toContain('startup failed');
      expect(app.output()).toContain(
        'sealed under the data-encryption key old, which DATA_ENCRYPTION_KEYS does not list',
      );
    },
    SLOW,
  );

  it(
    'open the secrets sealed before data keys existed with JWT_SECRET, or with JWT_PREVIOUS_SECRETS once it rotated',
    async () => {
      const keys = dataKey('k1');
      const firstSecret = jwtSecret();
      const api = await switchTo({ JWT_SECRET: firstSecret, DATA_ENCRYPTION_KEYS: keys });
      const owner = await signUp(api);
      const organization = await createOrganization(api, owner);
      const project = await createProject(api, owner, organization.id);
      const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
      await insertEndpoint(api, owner, organization.id, `${receiverUrl}/legacy`, legacySeal(firstSecret, secret));
      const before = await createTask(api, owner, project.id);
      expect(await signedDelivery(receiver, '/legacy', before.id, secret)).toBe(true);

      const rotated = await switchTo({
        JWT_SECRET: jwtSecret(),
        JWT_PREVIOUS_SECRETS: firstSecret,
        DATA_ENCRYPTION_KEYS: keys,
      });
      const after = await createTask(rotated, await logIn(rotated, owner), project.id);
      expect(await signedDelivery(receiver, '/legacy', after.id, secret)).toBe(true);

      // Without the secret that sealed them they were unreadable before this change too: a warning, not a refusal to start.
      const forgotten = await switchTo({ JWT_SECRET: jwtSecret(), DATA_ENCRYPTION_KEYS: keys });
      expect(
        forgotten.logs.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message),
      ).toContainEqual(
        expect.stringContaining(
          '1 webhook endpoint secret(s) sealed under a key derived from a JWT secret that neither JWT_SECRET nor JWT_PREVIOUS_SECRETS holds',
        ),
      );
    },
    SLOW,
  );

  it(
    'fail the delivery of a secret this instance cannot open, and retry it, without stopping the others',
    async () => {
      const api = await startOne();
      const { owner, organization, project, endpoint } = await organizationWithEndpoint(api, '/readable');
      // Sealed by an instance with a key this one lacks (a rotation done in the wrong order).
      const foreign = new SecretBox({
        keys: [{ id: 'k2', key: Buffer.from(dataKey('k2').slice(3), 'base64') }],
        legacySecrets: [],
      });
      await insertEndpoint(api, owner, organization.id, `${receiverUrl}/unreadable`, foreign.seal('whsec_x'));
      const task = await createTask(api, owner, project.id);
      expect(await signedDelivery(receiver, '/readable', task.id, endpoint.secret)).toBe(true);
      const [failed] = await waitFor(async () => {
        const rows = (await api.app.dataSource.query(
          `SELECT d.status, d.attempts, d.last_error FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE e.url LIKE '%/unreadable' AND d.attempts > 0`,
        )) as { status: string; attempts: number; last_error: string }[];
        return rows.length > 0 ? rows : undefined;
      }, 'the failed attempt');
      expect(failed.status).toBe('PENDING');
      expect(failed.last_error).toBe(
        "the endpoint's secret cannot be opened: sealed under the data-encryption key k2, which DATA_ENCRYPTION_KEYS does not list",
      );
      expect(receiver.received.filter((entry) => entry.path === '/unreadable')).toEqual([]);
    },
    SLOW,
  );
});

describe('access-token keys', () => {
  const mint = (api: TestApp, secret: string, userId: string) =>
    new AccessTokens({
      secret,
      previousSecrets: [],
      issuer: api.config.JWT_ISSUER,
      audience: api.config.JWT_AUDIENCE,
      ttlSeconds: 600,
    }).issue(userId);

  const codeOf = async (api: TestApp, token: string) => {
    const response = await api.gql(ME, {}, { token });
    return response.body.errors
      ? [response.status, response.body.errors[0].extensions.code]
      : [response.status, response.body.data!.me.id];
  };

  it(
    'name their key in kid; a token of a previous secret still authenticates, one of an unknown secret is UNAUTHENTICATED',
    async () => {
      const oldSecret = jwtSecret();
      const before = await switchTo({ JWT_SECRET: oldSecret });
      const owner = await signUp(before);
      expect(decodeProtectedHeader(owner.accessToken)).toMatchObject({
        alg: 'HS256',
        typ: 'at+jwt',
        kid: keyIdOf(oldSecret),
      });

      const newSecret = jwtSecret();
      const rotated = await switchTo({ JWT_SECRET: newSecret, JWT_PREVIOUS_SECRETS: `${jwtSecret()},${oldSecret}` });
      expect(await codeOf(rotated, owner.accessToken)).toEqual([200, owner.user.id]);
      const fresh = await logIn(rotated, owner);
      expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(keyIdOf(newSecret));
      expect(await codeOf(rotated, fresh.accessToken)).toEqual([200, owner.user.id]);

      const stranger = jwtSecret();
      expect(await codeOf(rotated, (await mint(rotated, stranger, owner.user.id)).token)).toEqual([
        401,
        'UNAUTHENTICATED',
      ]);
      // A known kid does not lend its key to a token signed with another.
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: keyIdOf(oldSecret) })
        .setSubject(owner.user.id)
        .setIssuer(rotated.config.JWT_ISSUER)
        .setAudience(rotated.config.JWT_AUDIENCE)
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(stranger));
      expect(await codeOf(rotated, forged)).toEqual([401, 'UNAUTHENTICATED']);

      // Once the old secret leaves JWT_PREVIOUS_SECRETS, its tokens stop working; the new secret's go on.
      const retired = await switchTo({ JWT_SECRET: newSecret });
      expect(await codeOf(retired, owner.accessToken)).toEqual([401, 'UNAUTHENTICATED']);
      expect(await codeOf(retired, fresh.accessToken)).toEqual([200, owner.user.id]);
    },
    SLOW,
  );

  it(
    'still accept a token from before kids (no kid header) signed with a configured secret, until it expires',
    async () => {
      const oldSecret = jwtSecret();
      const api = await startOne({ JWT_PREVIOUS_SECRETS: oldSecret });
      const owner = await signUp(api);
      const kidless = (secret: string) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setSubject(owner.user.id)
          .setIssuer(api.config.JWT_ISSUER)
          .setAudience(api.config.JWT_AUDIENCE)
          .setExpirationTime('10m')
          .sign(new TextEncoder().encode(secret));
      expect(await codeOf(api, await kidless(oldSecret))).toEqual([200, owner.user.id]);
      expect(await codeOf(api, await kidless(api.config.jwtSecret))).toEqual([200, owner.user.id]);
      expect(await codeOf(api, await kidless(jwtSecret()))).toEqual([401, 'UNAUTHENTICATED']);
    },
    SLOW,
  );
});
