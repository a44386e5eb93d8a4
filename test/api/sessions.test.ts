import { randomBytes } from 'node:crypto';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';

const ME = `query Me { me { id } }`;
const REFRESH = `mutation Refresh($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken user { id } } }`;
const LOG_OUT = `mutation LogOut($token: String!) { logOut(refreshToken: $token) }`;
const REVOKED = 'refresh token reused: session family revoked';

/** More than DATABASE_POOL_MAX (10), so on PostgreSQL some refreshes also queue for a connection. */
const PARALLEL = 12;

interface Pair {
  accessToken: string;
  refreshToken: string;
}

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api?.stop();
});

async function refresh(app: TestApp, token: string) {
  return app.gql<{ refreshSession: Pair }>(REFRESH, { token });
}

async function refreshAtOnce(token: string): Promise<Pair[]> {
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => refresh(api, token)));
  for (const result of results) expect(result.body.errors).toBeUndefined();
  return results.map((result) => result.body.data!.refreshSession);
}

async function familyOf(userId: string): Promise<{ live: number; total: number }> {
  const [row] = (await api.app.dataSource.query(
    `SELECT count(*) FILTER (WHERE used_at IS NULL AND revoked_at IS NULL)::int AS live, count(*)::int AS total FROM refresh_tokens WHERE user_id = $1`,
    [userId],
  )) as { live: number; total: number }[];
  return row;
}

/** Moves the spending of the user's spent tokens out of the grace window (10 s) without waiting for it. */
async function pastGrace(userId: string): Promise<void> {
  await api.app.dataSource.query(
    `UPDATE refresh_tokens SET used_at = now() - interval '11 seconds' WHERE user_id = $1 AND used_at IS NOT NULL`,
    [userId],
  );
}

function revocationsOf(app: TestApp, userId: string) {
  return app.logs.find(REVOKED).filter((entry) => entry.userId === userId);
}

describe('refreshSession within the grace window', () => {
  it(`When ${PARALLEL} refreshes of one token run at once, then all get the same successor, every access token works, and the family holds one live token`, async () => {
    const user = await signUp(api);
    let token = user.refreshToken;
    for (let round = 1; round <= 3; round += 1) {
      const pairs = await refreshAtOnce(token);
      const successors = new Set(pairs.map((pair) => pair.refreshToken));
      expect(successors.size).toBe(1);
      expect(successors.has(token)).toBe(false);
      const me = await Promise.all(pairs.map((pair) => api.gql(ME, {}, { token: pair.accessToken })));
      expect(me.map((response) => response.body.data?.me?.id)).toEqual(pairs.map(() => user.user.id));
      expect(await familyOf(user.user.id)).toEqual({ live: 1, total: round + 1 });
      token = pairs[0].refreshToken;
    }
    expect(revocationsOf(api, user.user.id)).toEqual([]);

    // Outside the window, the first token presented again is a replay: the whole family goes.
    await pastGrace(user.user.id);
    expect((await refresh(api, user.refreshToken)).body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await refresh(api, token)).body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await familyOf(user.user.id)).toMatchObject({ live: 0 });
    expect(revocationsOf(api, user.user.id)).toHaveLength(1);
  });

  it('When a retry comes after the answer it repeats, then it gets the same refresh token and a working access token', async () => {
    const user = await signUp(api);
    const first = (await refresh(api, user.refreshToken)).body.data!.refreshSession;
    const retry = (await refresh(api, user.refreshToken)).body.data!.refreshSession;

    expect(retry.refreshToken).toBe(first.refreshToken);
    expect((await api.gql(ME, {}, { token: retry.accessToken })).body.data!.me.id).toBe(user.user.id);
    expect((await refresh(api, retry.refreshToken)).body.errors).toBeUndefined();
  });

  it('When the successor was already spent, then presenting its parent again revokes the family, even within the window', async () => {
    const user = await signUp(api);
    const second = (await refresh(api, user.refreshToken)).body.data!.refreshSession;
    const third = (await refresh(api, second.refreshToken)).body.data!.refreshSession;

    const replay = await refresh(api, user.refreshToken);
    expect(replay.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await refresh(api, third.refreshToken)).body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(revocationsOf(api, user.user.id)).toEqual([expect.objectContaining({ withinGrace: true })]);
  });

  it('When the session was logged out, then a retry of its spent token is refused', async () => {
    const user = await signUp(api);
    const second = (await refresh(api, user.refreshToken)).body.data!.refreshSession;
    expect((await api.gql(LOG_OUT, { token: second.refreshToken })).body.data).toEqual({ logOut: true });

    expect((await refresh(api, user.refreshToken)).body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await familyOf(user.user.id)).toMatchObject({ live: 0 });
  });
});

// Two instances need one database: PGlite's in-memory databases are one per app.
(usingPostgres ? describe : describe.skip)('refreshSession retried on another instance', () => {
  let database: TestDatabase;
  const oldSecret = randomBytes(32).toString('base64url');
  const newSecret = randomBytes(32).toString('base64url');
  const apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    apps.push(await startTestApp({ JWT_SECRET: oldSecret }, database));
    apps.push(await startTestApp({ JWT_SECRET: newSecret, JWT_PREVIOUS_SECRETS: oldSecret }, database));
    apps.push(await startTestApp({ JWT_SECRET: randomBytes(32).toString('base64url') }, database));
  });

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await database?.drop();
  });

  it('When the secret rotated in between and the old one is still listed, then the retry gets the same successor', async () => {
    const [before, after] = apps;
    const user = await signUp(before);
    const first = (await refresh(before, user.refreshToken)).body.data!.refreshSession;
    const retry = await refresh(after, user.refreshToken);
    expect(retry.body.data!.refreshSession.refreshToken).toBe(first.refreshToken);
  });

  it('When the successor cannot be derived (its secret is gone), then the retry is refused and the session lives on', async () => {
    const [before, , stranger] = apps;
    const user = await signUp(before);
    const first = (await refresh(before, user.refreshToken)).body.data!.refreshSession;

    expect((await refresh(stranger, user.refreshToken)).body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(stranger.logs.find('refresh token retried but its successor cannot be derived')).toHaveLength(1);
    expect(revocationsOf(stranger, user.user.id)).toEqual([]);
    expect((await refresh(before, first.refreshToken)).body.errors).toBeUndefined();
  });
});
