import { SecretBox } from '../../src/modules/webhooks/secret-box';
import { scriptRunner } from '../support/child-process';
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
import { usingPostgres, type TestDatabase } from '../support/test-database';
import { WebhookReceiver } from '../support/webhook-receiver';

let receiver: WebhookReceiver;
let receiverUrl: string;
let database: TestDatabase;
let running: TestApp | undefined;

beforeAll(async () => {
  receiver = new WebhookReceiver();
  receiverUrl = await receiver.start();
  database = await persistentDatabase();
});

afterAll(async () => {
  await running?.stop();
  await database?.drop();
  await receiver?.stop();
});

async function switchTo(env: Record<string, string>): Promise<TestApp> {
  await running?.stop();
  running = await startTestApp({ ...KEYS_TEST_ENV, ...env }, database);
  return running;
}

/** Embedded, the script and an app cannot open the data directory at once; on PostgreSQL the app keeps serving while the script runs. */
async function stopIfEmbedded(): Promise<void> {
  if (usingPostgres) return;
  await running?.stop();
  running = undefined;
}

describe('npm run keys:reencrypt', () => {
  it('rotates a data key: add the new key, old rows still open, re-encryption moves them (legacy ones too), then the old key goes', async () => {
    const oldKey = dataKey('old');
    const newKey = dataKey('new');
    const firstJwt = jwtSecret();
    const secrets = new Map<string, string>();

    // Before: two endpoints under the old key, and one sealed by a release before data keys (under JWT_SECRET).
    let api = await switchTo({ JWT_SECRET: firstJwt, DATA_ENCRYPTION_KEYS: oldKey });
    let owner = await signUp(api);
    const organization = await createOrganization(api, owner);
    const project = await createProject(api, owner, organization.id);
    for (const path of ['/a', '/b'])
      secrets.set(path, (await createEndpoint(api, owner, organization.id, `${receiverUrl}${path}`)).secret);
    secrets.set('/legacy', `whsec_${Buffer.alloc(32, 9).toString('base64')}`);
    await insertEndpoint(
      api,
      owner,
      organization.id,
      `${receiverUrl}/legacy`,
      legacySeal(firstJwt, secrets.get('/legacy')!),
    );

    // 1. The new key is added and made the first: old rows still open, new ones are sealed under it.
    const both = `${newKey},${oldKey}`;
    api = await switchTo({ JWT_SECRET: firstJwt, DATA_ENCRYPTION_KEYS: both });
    owner = await logIn(api, owner);
    secrets.set('/c', (await createEndpoint(api, owner, organization.id, `${receiverUrl}/c`)).secret);
    const beforeTask = await createTask(api, owner, project.id);
    for (const [path, secret] of secrets)
      expect([path, await signedDelivery(receiver, path, beforeTask.id, secret)]).toEqual([path, true]);
    expect(
      Object.values(await sealedSecrets(api))
        .map((sealed) => sealed.replace(/[^:]*$/, ''))
        .sort(),
    ).toEqual(['v1:', 'v2:new:', 'v2:old:', 'v2:old:']);

    // 2. keys:reencrypt moves every other row under the first key, and says how many from where.
    await stopIfEmbedded();
    const cli = scriptRunner('scripts/keys-reencrypt.ts', {
      ...database.env,
      JWT_SECRET: firstJwt,
      DATA_ENCRYPTION_KEYS: both,
    });
    expect(await cli('--dry-run')).toMatchObject({
      code: 0,
      stdout: 'Webhook secrets by key: legacy: 1, new: 1, old: 2. New ones are sealed under new.\n',
    });
    expect(await cli()).toMatchObject({
      code: 0,
      stdout: 'Re-encrypted 3 webhook secrets under key new (from legacy: 1, old: 2); 1 already under it.\n',
      stderr: '',
    });
    expect(await cli()).toMatchObject({
      code: 0,
      stdout: 'Re-encrypted 0 webhook secrets under key new; 4 already under it.\n',
    });
    if (running) {
      // The instance that served on meanwhile opens the moved rows.
      const duringTask = await createTask(running, owner, project.id);
      for (const [path, secret] of secrets)
        expect([path, await signedDelivery(receiver, path, duringTask.id, secret)]).toEqual([path, true]);
    }

    // 3. The old key leaves DATA_ENCRYPTION_KEYS, and JWT_SECRET rotates without a previous secret: every endpoint still works.
    api = await switchTo({ JWT_SECRET: jwtSecret(), DATA_ENCRYPTION_KEYS: newKey });
    expect(Object.values(await sealedSecrets(api)).every((sealed) => sealed.startsWith('v2:new:'))).toBe(true);
    const afterTask = await createTask(api, await logIn(api, owner), project.id);
    for (const [path, secret] of secrets)
      expect([path, await signedDelivery(receiver, path, afterTask.id, secret)]).toEqual([path, true]);

    // A row no configured key opens is left as it is, named, and the run exits 1 having moved the rest.
    const gone = new SecretBox({
      keys: [{ id: 'gone', key: Buffer.from(dataKey('gone').slice(5), 'base64') }],
      legacySecrets: [],
    });
    await insertEndpoint(api, owner, organization.id, `${receiverUrl}/gone`, gone.seal('whsec_gone'));
    await stopIfEmbedded();
    const lacking = await scriptRunner('scripts/keys-reencrypt.ts', {
      ...database.env,
      DATA_ENCRYPTION_KEYS: newKey,
    })();
    expect(lacking).toEqual({
      code: 1,
      stdout: 'Re-encrypted 0 webhook secrets under key new; 4 already under it.\n',
      stderr:
        '1 webhook secret left unchanged: sealed under the data-encryption key gone, which DATA_ENCRYPTION_KEYS does not list\n',
    });
  }, 300_000);

  it('explains itself and refuses an unknown argument', async () => {
    const cli = scriptRunner('scripts/keys-reencrypt.ts', { DATABASE_EMBEDDED_PATH: 'memory://' });
    expect(await cli('--help')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('npm run keys:reencrypt -- --dry-run'),
    });
    expect(await cli('--force')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('Unknown argument --force'),
    });
  }, 60_000);
});
