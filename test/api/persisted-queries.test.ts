import { createHash, randomBytes } from 'node:crypto';
import { startThrowawayRedis, type ThrowawayServer } from '../support/throwaway-servers';
import { startTestApp, type TestApp } from '../support/test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function post(api: TestApp, body: unknown) {
  const response = await fetch(`${api.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: unknown; errors?: { extensions: Record<string, unknown> }[] },
  };
}

/** A document of its own per test, so no instance has seen it before. */
function persisted() {
  const query = `{ me { id } } # ${randomBytes(6).toString('hex')}`;
  const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
  return { register: { query, extensions }, byHash: { extensions } };
}

describe('automatic persisted queries behind a load balancer', () => {
  let redis: ThrowawayServer;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    // Two instances of one deployment: the same Redis and key prefix, events inline (this test is about APQ).
    const shared = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `gw-apq-${randomBytes(4).toString('hex')}:`,
      EVENTS_TRANSPORT: 'inline',
    };
    [a, b] = await Promise.all([startTestApp(shared), startTestApp(shared)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.destroy();
  });

  it('serves on one instance a query registered through another, from Redis', async () => {
    const { register, byHash } = persisted();

    expect((await post(b, byHash)).body.errors?.[0]?.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(a, register)).body).toEqual({ data: { me: null }, extensions: expect.any(Object) });
    expect((await post(b, byHash)).body).toEqual({ data: { me: null }, extensions: expect.any(Object) });
  });

  it('treats Redis away as a miss (the client sends the query again), never as a failed request', async () => {
    const { register, byHash } = persisted();
    await redis.stop();
    try {
      const miss = await post(a, byHash);
      const full = await post(a, register);

      expect([miss.status, miss.body.errors?.[0]?.extensions.code]).toEqual([200, 'PERSISTED_QUERY_NOT_FOUND']);
      expect([full.status, full.body.data]).toEqual([200, { me: null }]);
    } finally {
      await redis.start();
    }
  });

  it('keeps each instance to its own cache without Redis (why REDIS_URL matters for APQ)', async () => {
    const [c, d] = await Promise.all([
      startTestApp({ EVENTS_TRANSPORT: 'inline' }),
      startTestApp({ EVENTS_TRANSPORT: 'inline' }),
    ]);
    try {
      const { register, byHash } = persisted();
      await post(c, register);

      expect((await post(d, byHash)).body.errors?.[0]?.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect((await post(c, byHash)).body.data).toEqual({ me: null });
    } finally {
      await Promise.all([c.stop(), d.stop()]);
    }
  });
});
