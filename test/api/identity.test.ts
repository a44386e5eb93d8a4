import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { AccessTokens } from '../../src/modules/identity/tokens';
import { TestClock } from '../support/smtp-catcher';
import { SIGN_UP, signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';

const ME = `query Me { me { id email name createdAt } }`;
const LOG_IN = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email } } }`;
const REFRESH = `mutation Refresh($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken user { id email } } }`;
const LOG_OUT = `mutation LogOut($token: String!) { logOut(refreshToken: $token) }`;

const PER_IP_LIMIT = 5;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({
    // Each test logs in from its own X-Forwarded-For address, so the per-IP limit of one test never trips another.
    TRUST_PROXY: 'true',
    LOGIN_RATE_LIMIT_PER_IP: String(PER_IP_LIMIT),
  });
});

afterAll(async () => {
  await api?.stop();
});

let ipCounter = 0;
function newClientIp(): string {
  ipCounter += 1;
  return `198.51.100.${ipCounter}`;
}

function logIn(email: string, password: string, ip = newClientIp()) {
  return api.gql(LOG_IN, { input: { email, password } }, { headers: { 'x-forwarded-for': ip } });
}

async function countUsers(email: string): Promise<number> {
  const rows = (await api.app.dataSource.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email])) as {
    n: number;
  }[];
  return rows[0].n;
}

describe('signUp', () => {
  it('creates an account with a normalised email and returns a working session', async () => {
    const email = uniqueEmail('Mixed.Case');
    const response = await api.gql(SIGN_UP, {
      input: { email: email.toUpperCase(), password: 'long enough password', name: ' Ada ' },
    });

    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data!.signUp;
    expect(payload.user).toMatchObject({ email: email.toLowerCase(), name: 'Ada' });
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(payload.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await api.gql(ME, {}, { token: payload.accessToken });
    expect(me.body.data!.me).toMatchObject({ id: payload.user.id, email: email.toLowerCase(), name: 'Ada' });
  });

  it('rejects an email already taken in another case with CONFLICT and creates nothing', async () => {
    const existing = await signUp(api);
    const response = await api.gql(SIGN_UP, {
      input: { email: existing.user.email.toUpperCase(), password: 'another long password', name: 'Twin' },
    });

    // signUp is nullable (null in SIGNUP_MODE=quiet), so an error answers { signUp: null }.
    expect(response.body.data).toEqual({ signUp: null });
    expect(response.body.errors![0].extensions).toMatchObject({ code: 'CONFLICT', requestId: expect.any(String) });
    expect(await countUsers(existing.user.email)).toBe(1);
  });

  it('rejects invalid input with BAD_USER_INPUT naming each field, before anything is stored', async () => {
    const response = await api.gql(SIGN_UP, { input: { email: 'not-an-email', password: 'short', name: '   ' } });

    const error = response.body.errors![0];
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.requestId).toEqual(expect.any(String));
    const fields = (error.extensions.validationErrors as { field: string; messages: string[] }[]).map(
      (entry) => entry.field,
    );
    expect(fields.sort()).toEqual(['email', 'name', 'password']);
    expect(await countUsers('not-an-email')).toBe(0);
  });

  it('rejects a password longer than 256 characters', async () => {
    const response = await api.gql(SIGN_UP, {
      input: { email: uniqueEmail(), password: 'x'.repeat(257), name: 'Long' },
    });
    expect(response.body.errors![0].extensions.validationErrors).toEqual([
      { field: 'password', messages: [expect.stringContaining('256')] },
    ]);
  });

  it('rejects a missing input field as BAD_USER_INPUT with status 400', async () => {
    const response = await api.gql(SIGN_UP, { input: { email: uniqueEmail(), password: 'long enough password' } });
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      requestId: expect.any(String),
    });
  });
});

describe('logIn', () => {
  it('signs in with the right password, whatever the case of the email', async () => {
    const user = await signUp(api);
    const response = await logIn(user.user.email.toUpperCase(), user.password);

    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.logIn.user).toEqual({ id: user.user.id, email: user.user.email });
    const me = await api.gql(ME, {}, { token: response.body.data!.logIn.accessToken });
    expect(me.body.data!.me.id).toBe(user.user.id);
  });

  it('gives an unknown email and a wrong password the same answer', async () => {
    const user = await signUp(api);
    const wrongPassword = await logIn(user.user.email, 'not the password');
    const unknownEmail = await logIn(uniqueEmail('nobody'), 'not the password');

    const strip = (body: Awaited<ReturnType<typeof logIn>>['body']) =>
      body.errors!.map(({ message, extensions: { code } }) => ({ message, code }));
    expect(strip(wrongPassword.body)).toEqual([{ message: 'Invalid email or password', code: 'UNAUTHENTICATED' }]);
    expect(strip(unknownEmail.body)).toEqual(strip(wrongPassword.body));
  });

  it('limits attempts per client address across accounts', async () => {
    const ip = newClientIp();
    for (let attempt = 0; attempt < PER_IP_LIMIT; attempt += 1) {
      const response = await logIn(uniqueEmail('spray'), 'some password', ip);
      expect(response.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const blocked = await logIn(uniqueEmail('spray'), 'some password', ip);
    expect(blocked.body.errors![0].extensions.code).toBe('RATE_LIMITED');

    const otherAddress = await logIn(uniqueEmail('spray'), 'some password', newClientIp());
    expect(otherAddress.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('refreshSession', () => {
  it('rotates: returns a new pair whose access token works', async () => {
    const user = await signUp(api);
    const response = await api.gql(REFRESH, { token: user.refreshToken });

    const refreshed = response.body.data!.refreshSession;
    expect(refreshed.user).toEqual({ id: user.user.id, email: user.user.email });
    expect(refreshed.refreshToken).not.toBe(user.refreshToken);
    const me = await api.gql(ME, {}, { token: refreshed.accessToken });
    expect(me.body.data!.me.id).toBe(user.user.id);
  });

  it('revokes the whole session when a spent token is used again', async () => {
    const user = await signUp(api);
    const first = await api.gql(REFRESH, { token: user.refreshToken });
    const successor = first.body.data!.refreshSession.refreshToken as string;

    // Past the grace window for double submissions.
    await api.app.dataSource.query(
      `UPDATE refresh_tokens SET used_at = now() - interval '11 seconds' WHERE user_id = $1 AND used_at IS NOT NULL`,
      [user.user.id],
    );
    const replay = await api.gql(REFRESH, { token: user.refreshToken });
    expect(replay.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');

    const afterReplay = await api.gql(REFRESH, { token: successor });
    expect(afterReplay.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(api.logs.find('refresh token reused: session family revoked')).toHaveLength(1);
  });

  it('with REFRESH_REUSE_GRACE_SECONDS=0, lets only one of two concurrent refreshes succeed', async () => {
    const strict = await startTestApp({ REFRESH_REUSE_GRACE_SECONDS: '0' });
    try {
      const user = await signUp(strict);
      const results = await Promise.all([
        strict.gql(REFRESH, { token: user.refreshToken }),
        strict.gql(REFRESH, { token: user.refreshToken }),
      ]);
      expect(results.filter((result) => result.body.data?.refreshSession)).toHaveLength(1);
    } finally {
      await strict.stop();
    }
  });

  it('rejects an expired refresh token', async () => {
    const user = await signUp(api);
    await api.app.dataSource.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [user.user.id],
    );
    const response = await api.gql(REFRESH, { token: user.refreshToken });
    expect(response.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['well-formed but unknown', 'A'.repeat(43)],
    ['empty', ''],
  ])('rejects a %s refresh token with UNAUTHENTICATED', async (_label, token) => {
    const response = await api.gql(REFRESH, { token });
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      requestId: expect.any(String),
    });
  });
});

describe('logOut', () => {
  it('ends the session: the refresh token stops working and a second logOut says false', async () => {
    const user = await signUp(api);
    expect((await api.gql(LOG_OUT, { token: user.refreshToken })).body.data).toEqual({ logOut: true });

    const refresh = await api.gql(REFRESH, { token: user.refreshToken });
    expect(refresh.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await api.gql(LOG_OUT, { token: user.refreshToken })).body.data).toEqual({ logOut: false });
  });

  it('leaves the user’s other sessions alone', async () => {
    const user = await signUp(api);
    const second = (await logIn(user.user.email, user.password)).body.data!.logIn;
    await api.gql(LOG_OUT, { token: user.refreshToken });

    const refresh = await api.gql(REFRESH, { token: second.refreshToken });
    expect(refresh.body.errors).toBeUndefined();
  });

  it('answers false for a token that was never issued', async () => {
    expect((await api.gql(LOG_OUT, { token: 'nonsense' })).body.data).toEqual({ logOut: false });
  });
});

describe('access tokens', () => {
  const encoder = new TextEncoder();

  async function token(overrides: {
    secret?: string;
    issuer?: string;
    audience?: string;
    typ?: string;
    expiresIn?: number;
    sub?: string;
  }) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: overrides.typ ?? 'at+jwt' })
      .setSubject(overrides.sub ?? randomUUID())
      .setIssuer(overrides.issuer ?? api.config.JWT_ISSUER)
      .setAudience(overrides.audience ?? api.config.JWT_AUDIENCE)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (overrides.expiresIn ?? 600))
      .sign(encoder.encode(overrides.secret ?? api.config.jwtSecret));
  }

  function unsigned(): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({
      sub: randomUUID(),
      iss: api.config.JWT_ISSUER,
      aud: api.config.JWT_AUDIENCE,
      exp: now + 600,
    })}.`;
  }

  it('accepts a token signed with the configured secret', async () => {
    const user = await signUp(api);
    const response = await api.gql(ME, {}, { token: await token({ sub: user.user.id }) });
    expect(response.body.data!.me.id).toBe(user.user.id);
  });

  it.each<[string, () => Promise<string> | string]>([
    ['garbage', () => 'garbage'],
    ['alg none', unsigned],
    ['a wrong signature', () => token({ secret: 'another secret that is long enough to sign' })],
    ['an expired token', () => token({ expiresIn: -10 })],
    ['another issuer', () => token({ issuer: 'someone-else' })],
    ['another audience', () => token({ audience: 'another-api' })],
    ['another token type', () => token({ typ: 'JWT' })],
    ['a refresh token', async () => (await signUp(api)).refreshToken],
  ])('rejects %s with 401 UNAUTHENTICATED and the request id', async (_label, makeToken) => {
    const response = await api.gql(ME, {}, { token: await makeToken() });
    expect(response.status).toBe(401);
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        extensions: { code: 'UNAUTHENTICATED', requestId: response.headers.get('x-request-id') },
      }),
    ]);
  });

  it('refuses a token it has verified before once the token expires (verified tokens are remembered)', async () => {
    const clock = new TestClock();
    const settings = { secret: 'a secret of at least thirty-two bytes, for this test', previousSecrets: [] };
    const tokens = new AccessTokens(
      { ...settings, issuer: 'groundwork', audience: 'groundwork-api', ttlSeconds: 60 },
      clock,
    );
    const userId = randomUUID();
    const sessionId = randomUUID();
    const { token, expiresAt } = await tokens.issue(userId, sessionId);
    expect(await tokens.verify(token)).toEqual({ userId, sessionId, expiresAt });
    expect(await tokens.verify(token)).toEqual({ userId, sessionId, expiresAt });
    // jose's rule: expired from the second of exp on.
    clock.advance(expiresAt.getTime() - clock.now().getTime() - 1000);
    expect(await tokens.verify(token)).toEqual({ userId, sessionId, expiresAt });
    clock.advance(1000);
    expect(await tokens.verify(token)).toBeUndefined();
    // Another instance with another secret never takes it (its keys are its own).
    const other = new AccessTokens({
      secret: 'another secret of at least thirty-two bytes',
      previousSecrets: [],
      issuer: 'groundwork',
      audience: 'groundwork-api',
      ttlSeconds: 60,
    });
    expect(await other.verify((await tokens.issue(userId)).token)).toBeUndefined();
  });

  it('rejects an Authorization header that is not a bearer token', async () => {
    const response = await api.gql(ME, {}, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(response.status).toBe(401);
    expect(response.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('me', () => {
  it('is null for an anonymous request', async () => {
    const response = await api.gql(ME);
    expect(response.body).toMatchObject({ data: { me: null } });
  });
});
