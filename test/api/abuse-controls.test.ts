import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ProgressiveDelay } from '../../src/modules/identity/progressive-delay';
import { RateLimitedError } from '../../src/platform/errors';
import { RateLimits } from '../../src/platform/rate-limit';
import { redisStreamsEnv, redisUrl } from '../support/events';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }`;

describe('the API budget (cost points per minute)', () => {
  let api: TestApp;

  beforeAll(async () => {
    // `{ me { id } }` costs 2: five fit in a user's budget of 10, and ten in an address's budget of 20.
    api = await startTestApp({
      API_BUDGET_PER_USER_PER_MINUTE: '10',
      API_BUDGET_PER_IP_PER_MINUTE: '20',
      TRUST_PROXY: 'true',
    });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('refuses a signed-in user past their budget with RATE_LIMITED, HTTP 429 and Retry-After, before any resolver runs', async () => {
    const user = await signUp(api, {});
    const headers = { 'x-forwarded-for': '198.51.100.1' };
    for (let index = 0; index < 5; index += 1) {
      expect((await api.gql('{ me { id } }', {}, { token: user.accessToken, headers })).body.errors).toBeUndefined();
    }
    const refused = await api.gql(
      '{ me { id } }',
      {},
      { token: user.accessToken, headers: { ...headers, 'x-request-id': 'over-budget' } },
    );
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
      requestId: 'over-budget',
    });
    expect(refused.body.errors![0].extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(Number(refused.headers.get('retry-after'))).toBe(refused.body.errors![0].extensions.retryAfterSeconds);
    expect(api.logs.find('sql').filter((entry) => entry.requestId === 'over-budget')).toEqual([]);
  });

  it('limits anonymous clients by address, and another address still has its own budget', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.2' };
    for (let index = 0; index < 10; index += 1)
      expect((await api.gql('{ me { id } }', {}, { headers: ip })).status).toBe(200);
    expect((await api.gql('{ me { id } }', {}, { headers: ip })).status).toBe(429);
    expect((await api.gql('{ me { id } }', {}, { headers: { 'x-forwarded-for': '198.51.100.3' } })).status).toBe(200);
  });
});

const stores: { name: string; rateLimits(): { rateLimits: RateLimits; close(): void } }[] = [
  { name: 'memory', rateLimits: () => ({ rateLimits: new RateLimits(), close: () => undefined }) },
];
const storeUrl = redisUrl;
if (storeUrl) {
  stores.push({
    name: 'Redis',
    rateLimits: () => {
      const redis = new Redis(storeUrl);
      return {
        rateLimits: new RateLimits(redis, `gw-test:${randomBytes(4).toString('hex')}:`),
        close: () => redis.disconnect(),
      };
    },
  });
}

describe.each(stores)('the login wait schedule, on $name', ({ rateLimits: make }) => {
  it('lets the free failures through, then doubles the wait from the first with each further failure, up to the longest', async () => {
    const { rateLimits, close } = make();
    try {
      const delay = new ProgressiveDelay(rateLimits, 'schedule', {
        free: 2,
        firstDelaySeconds: 60,
        maxDelaySeconds: 600,
        memorySeconds: 86_400,
      });
      const key = `203.0.113.9|lock-${randomBytes(4).toString('hex')}@example.com`;
      const waitAfter = async (failures: number) => {
        await delay.reset(key);
        for (let failure = 0; failure < failures; failure += 1) await delay.count(key);
        // This attempt passes and closes the gate; the one after it meets the wait.
        await delay.enter(key);
        return delay.enter(key).then(
          () => 0,
          (error: unknown) => {
            if (error instanceof RateLimitedError) return error.retryAfterSeconds;
            throw error;
          },
        );
      };
      const expected = [0, 60, 120, 240, 480, 600, 600];
      const waits: number[] = [];
      for (let failures = 0; failures < expected.length; failures += 1) waits.push(await waitAfter(failures));
      // A wait is reported in whole seconds, rounded up from what is left of it.
      waits.forEach((wait, index) => expect([expected[index], Math.max(0, expected[index] - 1)]).toContain(wait));
      await delay.reset(key);
      await delay.enter(key);
      expect(await waitAfter(0)).toBe(0);
    } finally {
      close();
    }
  });
});

(redisUrl ? describe : describe.skip)('with REDIS_URL, across two instances', () => {
  const instances: TestApp[] = [];
  let database: TestDatabase;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const redis = redisStreamsEnv(redisUrl!);
    cleanup = redis.cleanup;
    const shared = {
      ...redis.env,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      TRUST_PROXY: 'true',
      LOGIN_FAILURES_PER_ACCOUNT_AND_IP: '4',
      LOGIN_FAILURES_PER_ACCOUNT: '6',
      LOGIN_DELAY_FIRST: '60s',
      API_BUDGET_PER_USER_PER_MINUTE: '10',
    };
    for (let index = 0; index < 2; index += 1) instances.push(await startTestApp(shared, database));
  });

  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await database?.drop();
    await cleanup?.();
  });

  const logInFrom = (instance: TestApp, email: string, password: string, ip: string) =>
    instance.gql(LOG_IN, { input: { email, password } }, { headers: { 'x-forwarded-for': ip } });
  const codeOf = (response: Awaited<ReturnType<typeof logInFrom>>) =>
    response.body.errors?.[0]?.extensions.code ?? 'OK';

  it('counts one address’s failures on both: it waits everywhere, while the owner’s own address gets in on both', async () => {
    const user = await signUp(instances[0]);
    for (let attempt = 0; attempt < 4; attempt += 1) {
      expect(codeOf(await logInFrom(instances[attempt % 2], user.user.email, 'wrong password', '198.51.100.66'))).toBe(
        'UNAUTHENTICATED',
      );
    }
    for (const instance of instances) {
      const refused = await logInFrom(instance, user.user.email, user.password, '198.51.100.66');
      expect(refused.body.errors![0].extensions).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: expect.any(Number),
      });
    }
    for (const instance of instances)
      expect(codeOf(await logInFrom(instance, user.user.email, user.password, '198.51.100.67'))).toBe('OK');
  });

  it('counts an account’s failures from every address on both, and remembers the owner’s address on both', async () => {
    const user = await signUp(instances[0]);
    expect(codeOf(await logInFrom(instances[0], user.user.email, user.password, '198.51.100.70'))).toBe('OK');
    for (let attempt = 0; attempt < 6; attempt += 1) {
      expect(
        codeOf(
          await logInFrom(instances[attempt % 2], user.user.email, 'wrong password', `198.51.100.${80 + attempt}`),
        ),
      ).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await logInFrom(instances[1], user.user.email, user.password, '198.51.100.99'))).toBe('RATE_LIMITED');
    expect(codeOf(await logInFrom(instances[1], user.user.email, user.password, '198.51.100.70'))).toBe('OK');
  });

  it('spends one API budget for a user on both', async () => {
    const user = await signUp(instances[0]);
    for (let index = 0; index < 5; index += 1)
      expect((await instances[index % 2].gql('{ me { id } }', {}, { token: user.accessToken })).status).toBe(200);
    expect((await instances[1].gql('{ me { id } }', {}, { token: user.accessToken })).status).toBe(429);
  });
});
