import { randomBytes } from 'node:crypto';
import { LoginThrottle } from '../../src/modules/identity/login-throttle';
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
    api = await startTestApp({ API_BUDGET_PER_USER_PER_MINUTE: '10', API_BUDGET_PER_IP_PER_MINUTE: '20', TRUST_PROXY: 'true' });
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
    const refused = await api.gql('{ me { id } }', {}, { token: user.accessToken, headers: { ...headers, 'x-request-id': 'over-budget' } });
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number), requestId: 'over-budget' });
    expect(refused.body.errors![0].extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(Number(refused.headers.get('retry-after'))).toBe(refused.body.errors![0].extensions.retryAfterSeconds);
    expect(api.logs.find('sql').filter((entry) => entry.requestId === 'over-budget')).toEqual([]);
  });

  it('limits anonymous clients by address, and another address still has its own budget', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.2' };
    for (let index = 0; index < 10; index += 1) expect((await api.gql('{ me { id } }', {}, { headers: ip })).status).toBe(200);
    expect((await api.gql('{ me { id } }', {}, { headers: ip })).status).toBe(429);
    expect((await api.gql('{ me { id } }', {}, { headers: { 'x-forwarded-for': '198.51.100.3' } })).status).toBe(200);
  });
});

describe('account lockout', () => {
  it('doubles with each lockout: a minute, then two', async () => {
    const throttle = new LoginThrottle(new RateLimits(), { perEmail: 2, perIp: 1000, windowSeconds: 900 });
    const email = `lock-${randomBytes(4).toString('hex')}@example.com`;
    const retryAfter = async () => {
      try {
        await throttle.beforeAttempt(email, '192.0.2.1');
        return 0;
      } catch (error) {
        if (error instanceof RateLimitedError) return error.retryAfterSeconds;
        throw error;
      }
    };
    await throttle.recordFailure(email);
    expect(await retryAfter()).toBe(0);
    await throttle.recordFailure(email);
    expect(await retryAfter()).toBeGreaterThanOrEqual(59);
    expect(await retryAfter()).toBeLessThanOrEqual(60);
    await throttle.recordFailure(email);
    expect(await retryAfter()).toBeGreaterThanOrEqual(119);
    await throttle.recordSuccess(email);
    expect(await retryAfter()).toBe(0);
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
    const shared = { ...redis.env, JWT_SECRET: randomBytes(32).toString('base64url'), LOGIN_RATE_LIMIT_PER_EMAIL: '4', API_BUDGET_PER_USER_PER_MINUTE: '10' };
    for (let index = 0; index < 2; index += 1) instances.push(await startTestApp(shared, database));
  });

  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await database?.drop();
    await cleanup?.();
  });

  it('counts failed logins of one account on both: the lockout holds everywhere', async () => {
    const user = await signUp(instances[0]);
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const failed = await instances[attempt % 2].gql(LOG_IN, { input: { email: user.user.email, password: 'wrong password' } });
      expect(failed.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    }
    for (const instance of instances) {
      const locked = await instance.gql(LOG_IN, { input: { email: user.user.email, password: user.password } });
      expect(locked.body.errors![0].extensions.code).toBe('RATE_LIMITED');
    }
  });

  it('spends one API budget for a user on both', async () => {
    const user = await signUp(instances[0]);
    for (let index = 0; index < 5; index += 1) expect((await instances[index % 2].gql('{ me { id } }', {}, { token: user.accessToken })).status).toBe(200);
    expect((await instances[1].gql('{ me { id } }', {}, { token: user.accessToken })).status).toBe(429);
  });
});
