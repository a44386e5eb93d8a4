import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../../src/platform/events/dead-letters';
import { FAST_EVENTS, publishTestEvent, redisStreamsEnv, redisUrl, TestConsumer } from '../support/events';
import { startTestApp, type TestApp } from '../support/test-app';
import { scriptRunner } from '../support/child-process';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/**
 * Six script runs, five of which open the database (on the embedded one the
 * app also stops before them and starts again after, and its first start
 * makes a cluster on disk): 15 s in all on an idle machine, 30 s beside two
 * CPU hogs, past 180 s at a load of 20 on two cores. Nothing here waits on
 * the clock: every wait is for a condition, within this budget.
 */
const BUDGET_MS = 300_000;

/** No retry worth waiting for: the first failure is retried once, at once, then dead-lettered. */
const DEAD_LETTER_FAST = { ...FAST_EVENTS, EVENTS_MAX_ATTEMPTS: '2', EVENTS_RETRY_BASE_MS: '1' };

const deadLettersCli = (env: Record<string, string>) => scriptRunner('scripts/events-dead-letters.ts', env);

const cases: { name: string; transport(): { env: Record<string, string>; cleanup(): Promise<void> } }[] = [
  { name: 'inline', transport: () => ({ env: { EVENTS_TRANSPORT: 'inline' }, cleanup: async () => undefined }) },
];
const sharedRedis = redisUrl;
if (sharedRedis) cases.push({ name: 'redis-streams', transport: () => redisStreamsEnv(sharedRedis) });

describe.each(cases)('npm run events:dead-letters ($name)', ({ transport }) => {
  const broken = new TestConsumer('broken', ['test.broken']);
  let database: TestDatabase;
  let dir: string | undefined;
  let apps: TestApp[] = [];
  let cleanup: () => Promise<void>;

  afterAll(async () => {
    for (const app of apps) await app.app.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await cleanup?.();
  });

  it(
    'lists what a consumer gave up on and replays it by id',
    async () => {
      const started = Date.now();
      // A wait gives up a little before jest would, so it fails saying what it waited for.
      const timeLeft = () => Math.max(1_000, BUDGET_MS - 5_000 - (Date.now() - started));
      const { env: transportEnv, cleanup: removeKeys } = transport();
      cleanup = removeKeys;
      // Embedded, the script and the app cannot open the data directory at once: the app stops for the script, then comes back.
      database = usingPostgres ? await createTestDatabase() : { env: {}, drop: async () => undefined };
      dir = usingPostgres ? undefined : mkdtempSync(join(tmpdir(), 'gw-dead-letters-'));
      const env = {
        ...DEAD_LETTER_FAST,
        ...transportEnv,
        ...database.env,
        ...(dir ? { DATABASE_EMBEDDED_PATH: dir } : {}),
      };
      const start = async () => {
        const api = await startTestApp(env, { env: {}, drop: async () => undefined }, { consumers: [broken.consumer] });
        apps.push(api);
        return api;
      };
      const cli = deadLettersCli(env);

      broken.behaviour = async () => {
        throw new Error('the receiving end is down');
      };
      let api = await start();
      const event = await publishTestEvent(api, 'test.broken');
      await waitFor(
        async () => (await api.app.events.deadLetters.list()).some((letter) => letter.eventId === event.id),
        'the dead letter',
        timeLeft(),
      );
      if (dir) {
        await api.app.stop();
        apps = [];
      }

      const listed = await cli();
      expect(listed).toMatchObject({ code: 0 });
      expect(listed.stdout).toMatch(/^id\s+consumer\s+type\s+event id\s+attempts\s+failed at\s+error$/m);
      expect(listed.stdout).toContain(event.id);
      expect(listed.stdout).toContain('Error: the receiving end is down');
      const letters = JSON.parse((await cli('--json')).stdout) as DeadLetter[];
      const letter = letters.find((entry) => entry.eventId === event.id)!;
      expect(letter).toMatchObject({ consumer: 'broken', eventType: 'test.broken', attempts: 2 });

      expect(await cli('--replay', 'no-such-letter')).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('No dead letter no-such-letter'),
      });
      expect(await cli('--replay')).toMatchObject({ code: 2 });
      broken.behaviour = async () => undefined;
      expect(await cli('--replay', letter.id)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining(`Replayed ${letter.id}`),
      });
      expect((await cli()).stdout).toContain('No dead letters.');

      if (dir) api = await start();
      await waitFor(() => broken.timesHandled(event.id) === 1, 'the replayed event to be handled', timeLeft());
    },
    BUDGET_MS,
  );
});
