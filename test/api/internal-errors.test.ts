import { SIGN_UP, startTestApp, uniqueEmail, withTableMissing, type TestApp } from '../support/test-app';

describe('an unexpected failure inside a resolver', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });

  afterAll(async () => {
    await api?.stop();
  });

  // A broken database is the realistic unexpected failure: signUp writes a user, a session, then a refresh token.
  const signUpWithoutTokenTable = (email: string, headers?: Record<string, string>) =>
    withTableMissing(api, 'refresh_tokens', () =>
      api.gql(SIGN_UP, { input: { email, password: 'long enough password', name: 'Oops' } }, { headers }),
    );

  it('answers INTERNAL_SERVER_ERROR with a masked message and the request id', async () => {
    const response = await signUpWithoutTokenTable(uniqueEmail());

    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ signUp: null }); // nullable since SIGNUP_MODE=quiet
    expect(response.body.errors).toEqual([
      {
        message: 'Internal server error',
        locations: expect.any(Array),
        path: ['signUp'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: response.headers.get('x-request-id') },
      },
    ]);
    expect(JSON.stringify(response.body)).not.toMatch(/refresh_tokens|relation|stack/i);
  });

  it('logs the error with its stack and the request id, at error level', async () => {
    const requestId = 'internal-error-1';
    await signUpWithoutTokenTable(uniqueEmail(), { 'x-request-id': requestId });

    const [logged] = api.logs.find('unexpected error').filter((entry) => entry.requestId === requestId);
    expect(logged).toMatchObject({ level: 'error', path: 'signUp' });
    expect(JSON.stringify(logged.error)).toMatch(/refresh_tokens[\s\S]*at /);
    const [operation] = api.logs.find('graphql operation').filter((entry) => entry.requestId === requestId);
    expect(operation).toMatchObject({ level: 'error', outcome: 'error', errorCodes: ['INTERNAL_SERVER_ERROR'] });
  });

  it('rolls the whole write back: no user without a session', async () => {
    const email = uniqueEmail('rolled-back');
    await signUpWithoutTokenTable(email);
    const rows = (await api.app.dataSource.query('SELECT id FROM users WHERE email = $1', [email])) as unknown[];
    expect(rows).toEqual([]);
  });
});
