import { SIGN_UP, signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';

const ME = `query Me { me { id email name createdAt } }`;
const LOG_IN = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email } } }`;
const REFRESH = `mutation Refresh($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken user { id } } }`;
const LOG_OUT = `mutation LogOut($token: String!) { logOut(refreshToken: $token) }`;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api?.stop();
});

describe('signUp', () => {
  it('creates an account with a normalised email and returns a working session', async () => {
    const email = uniqueEmail('Mixed.Case');
    const response = await api.gql(SIGN_UP, { input: { email: `  ${email.toUpperCase()}`.trim(), password: 'long enough password', name: ' Ada ' } });

    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data!.signUp;
    expect(payload.user).toMatchObject({ email: email.toLowerCase(), name: 'Ada' });
    expect(new Date(payload.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());

    const me = await api.gql(ME, {}, { token: payload.accessToken });
    expect(me.body.data!.me).toMatchObject({ id: payload.user.id, email: email.toLowerCase() });
  });
});

describe('me', () => {
  it('is null for an anonymous request', async () => {
    const response = await api.gql(ME);
    expect(response.body).toEqual({ data: { me: null } });
  });
});
