import { startStandaloneDatabase, type StandaloneDatabase } from '../support/standalone-database';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { signUp, startTestApp, type SignedUp, type TestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';
import { startThrowawayPostgres, type ThrowawayServer } from '../support/throwaway-servers';
import { waitFor } from '../support/wait';

/** How the app answers, logs and reports readiness while its database is gone, and that it recovers by itself. */
async function expectOutageAnswered(api: TestApp, user: SignedUp) {
  const requestId = `outage-${Math.random().toString(36).slice(2)}`;
  const read = await api.gql(
    'query Me { me { id name } }',
    {},
    { token: user.accessToken, headers: { 'x-request-id': requestId } },
  );
  expect(read.status).toBe(503);
  expect(read.headers.get('retry-after')).toBe('5');
  expect(read.body.errors).toEqual([
    expect.objectContaining({
      message: 'The service is temporarily unavailable; try again later',
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5, requestId },
    }),
  ]);
  expect(JSON.stringify(read.body)).not.toMatch(/ECONNREFUSED|terminat|127\.0\.0\.1|stack/i);

  const write = await api.gql(
    'mutation { createOrganization(input: { name: "During the outage" }) { id } }',
    {},
    { token: user.accessToken },
  );
  expect(write.status).toBe(503);
  expect(write.body.errors?.map((error) => error.extensions.code)).toEqual(['SERVICE_UNAVAILABLE']);

  const ready = await fetch(`${api.baseUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toMatch(/failed|no answer/);

  const lines = api.logs.entries.filter((entry) => entry.requestId === requestId);
  expect(lines.filter((entry) => entry.message === 'graphql operation')).toEqual([
    expect.objectContaining({
      level: 'warn',
      outcome: 'error',
      errorCodes: ['SERVICE_UNAVAILABLE'],
      unavailable: expect.any(String),
    }),
  ]);
  expect(lines.filter((entry) => entry.level === 'error')).toEqual([]);
  expect(JSON.stringify(lines)).not.toMatch(/\n\s+at /);

  // The event relay polls the outbox meanwhile: its failing streak is an outage too, a warning without a stack.
  const relayFailing = await waitFor(
    () => api.logs.entries.find((entry) => String(entry.message).endsWith('failing; events wait in the outbox')),
    'the event relay to report the outage',
  );
  expect(relayFailing).toEqual(expect.objectContaining({ level: 'warn', unavailable: expect.any(String) }));
}

async function expectRecovered(api: TestApp, user: SignedUp) {
  await waitFor(async () => (await fetch(`${api.baseUrl}/readyz`)).status === 200, '/readyz to be ready again', 20_000);
  const response = await waitFor(async () => {
    const answer = await api.gql('{ me { id } }', {}, { token: user.accessToken });
    return answer.status === 200 ? answer : undefined;
  }, 'a request to succeed again');
  expect(response.body).toMatchObject({ data: { me: { id: user.user.id } } });
}

/** A database the test can take away and give back, and the settings that point the app at it. */
interface Fault {
  env: Record<string, string>;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Either database, through a proxy the test cuts: sessions die and new connections are refused. */
async function cutConnection(): Promise<Fault> {
  const database: StandaloneDatabase = await startStandaloneDatabase();
  const proxy: TcpProxy = await startTcpProxy({ host: database.host, port: database.port });
  return {
    env: { DATABASE_URL: database.urlVia('127.0.0.1', proxy.port), DATABASE_POOL_MAX: String(database.poolMax) },
    cut: () => proxy.cut(),
    restore: () => proxy.restore(),
    close: async () => {
      await proxy.close();
      await database.stop();
    },
  };
}

/** A real restart: PostgreSQL ends every session (57P01), then refuses connections until it is back. */
async function restartPostgres(): Promise<Fault> {
  const postgres: ThrowawayServer = await startThrowawayPostgres();
  return {
    env: { DATABASE_URL: postgres.url },
    cut: () => postgres.stop(),
    restore: () => postgres.start(),
    close: () => postgres.destroy(),
  };
}

describe.each([
  ['the connection to the database is cut', cutConnection, true],
  ['PostgreSQL is stopped and started again', restartPostgres, usingPostgres],
] as const)('when %s', (_name, startFault, runs) => {
  let fault: Fault;
  let api: TestApp;

  beforeAll(async () => {
    if (!runs) return;
    fault = await startFault();
    api = await startTestApp({ ...fault.env, READINESS_TIMEOUT_MS: '1000' });
  });

  afterAll(async () => {
    await api?.stop();
    await fault?.close();
  });

  (runs ? it : it.skip)(
    'answers 503 SERVICE_UNAVAILABLE with Retry-After, logs a warning, is not ready, and recovers by itself',
    async () => {
      const user = await signUp(api);
      await fault.cut();
      try {
        await expectOutageAnswered(api, user);
      } finally {
        await fault.restore();
      }
      await expectRecovered(api, user);
    },
  );
});
