import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { spawnApp, type AppProcess } from '../support/child-process';
import { FAST_EVENTS, redisStreamsEnv, redisUrl, TestConsumer } from '../support/events';
import { createOrganization } from '../support/organizations';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/*
 * ROLE=worker is the only place events are handled, so a worker that dies
 * must lose nothing: a worker started after it takes over what it held.
 * The doomed worker is a real process (test/support/event-instance.ts, whose
 * `worker` consumer hangs mid-handler) killed with SIGKILL; the API instance
 * and the next worker run here. PostgreSQL and Redis only: split roles need a
 * shared database.
 */
const describeSplit = usingPostgres && redisUrl ? describe : describe.skip;
jest.setTimeout(120_000);

describeSplit('a worker killed mid-handler', () => {
  const apiSide = new TestConsumer('worker', ['organization.created']);
  const successor = new TestConsumer('worker', ['organization.created']);
  const redis = redisStreamsEnv(redisUrl!);
  let database: TestDatabase;
  let api: TestApp;
  let doomed: AppProcess | undefined;
  let next: TestApp | undefined;
  let client: Redis;

  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startTestApp({ ...FAST_EVENTS, ...redis.env, ROLE: 'api' }, database, {
      consumers: [apiSide.consumer],
    });
    client = new Redis(redisUrl!, { lazyConnect: true });
    await client.connect();
  });

  afterAll(async () => {
    if (doomed?.child.exitCode === null) doomed.child.kill('SIGKILL');
    await next?.stop();
    await api?.stop();
    client?.disconnect();
    await database?.drop();
    await redis.cleanup();
  });

  const pendingIn = async (group: string) =>
    ((await client.xpending(`${redis.env.REDIS_KEY_PREFIX}events`, group)) as [number])[0];

  it('loses nothing: the next worker claims its pending entries and every event is handled once', async () => {
    doomed = spawnApp(
      {
        ...database.env,
        ...redis.env,
        ROLE: 'worker',
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        JWT_SECRET: randomBytes(32).toString('base64url'),
        PASSWORD_HASH_COST: '12',
        EVENTS_POLL_INTERVAL_MS: '100',
        EVENTS_HANDLER_TIMEOUT_MS: '20000',
        EVENTS_CLAIM_IDLE_MS: '30000',
      },
      'test/support/event-instance.ts',
    );
    const readyz = await doomed.ready;
    expect(new URL(readyz).pathname).toBe('/readyz');
    // Ready once its database and Redis answer (a loaded machine may take a moment to connect).
    await waitFor(async () => (await fetch(readyz)).status === 200, 'the worker process to be ready');

    const owner = await signUp(api);
    const created: string[] = [];
    for (const name of ['First', 'Second', 'Third']) created.push((await createOrganization(api, owner, name)).id);
    const held = await waitFor(() => /handling (\S+)/.exec(doomed!.output())?.[1], 'the worker to start a handler');
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });
    // What it had read for `worker` and not acknowledged is pending under its name.
    expect(await pendingIn('worker')).toBeGreaterThan(0);

    next = await startTestApp({ ...FAST_EVENTS, ...redis.env, ROLE: 'worker' }, database, {
      consumers: [successor.consumer],
    });
    await waitFor(async () => (await next!.app.events.backlog()) === 0, 'the next worker to handle every event');

    for (const id of created) expect(successor.handled.filter((event) => event.organizationId === id)).toHaveLength(1);
    expect(successor.timesHandled(held)).toBe(1);
    expect(await pendingIn('worker')).toBe(0);
    expect(apiSide.runs).toEqual([]);
  });
});
