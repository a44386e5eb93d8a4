import { SIGN_UP, startTestApp, uniqueEmail, withTableMissing, type TestApp } from '../support/test-app';

const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('in development', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ NODE_ENV: 'development', LOG_FORMAT: 'json' });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('sends no content security policy or HSTS, so the Sandbox page can load its scripts over http', async () => {
    const response = await fetch(`${api.baseUrl}/healthz`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it('shows the Apollo Sandbox landing page to a browser on GET /graphql', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('answers introspection', async () => {
    const response = await api.gql(INTROSPECTION);
    expect(response.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('shows the real message of an unexpected error, to help the developer', async () => {
    const response = await withTableMissing(api, 'refresh_tokens', () =>
      api.gql(SIGN_UP, { input: { email: uniqueEmail(), password: 'long enough password', name: 'Dev' } }),
    );
    expect(response.body.errors![0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(response.body.errors![0].message).toMatch(/refresh_tokens/);
    expect(response.body.errors![0].extensions.stacktrace).toEqual(
      expect.arrayContaining([expect.stringMatching(/refresh_tokens/)]),
    );
  });

  it("keeps stack traces to INTERNAL_SERVER_ERROR: a client's mistakes come without one", async () => {
    const responses = [
      await api.gql('{ me { id ', {}),
      await api.gql('{ mee { id } }'),
      await api.gql('query Page($first: Int) { notifications(first: $first) { totalCount } }', { first: 'ten' }),
      await api.gql('mutation { signUp(input: { email: "bad", password: "short", name: "x" }) { accessToken } }'),
      await api.gql('{ me { id } }', {}, { token: 'forged' }),
      await api.gql(
        'mutation { logIn(input: { email: "nobody@example.com", password: "not the password" }) { accessToken } }',
      ),
      await api.gql('query { organization(id: "nope") { id } }'),
      await api.gql('subscription { notificationAdded { id } }'),
    ];
    const bare = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const errors = [
      ...responses.map((response) => response.body.errors?.[0] ?? { extensions: { code: 'no error' } }),
      ...((await bare.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors,
    ];
    expect(errors.map((error) => error.extensions.code)).toEqual([
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'BAD_USER_INPUT',
      'BAD_REQUEST',
      'BAD_REQUEST',
    ]);
    expect(errors.filter((error) => 'stacktrace' in error.extensions).map((error) => error.extensions.code)).toEqual(
      [],
    );
  });

  it('allows any origin by CORS', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  });
});

describe('in production', () => {
  let api: TestApp;

  beforeAll(async () => {
    // info, as production runs: no per-request AsyncLocalStorage, so request ids must come without it.
    api = await startTestApp({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com', LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('shows no landing page', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/sandbox/i);
  });

  it('sends the security headers of a JSON API on every response, HSTS included', async () => {
    for (const response of [
      await fetch(`${api.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ me { id } }"}',
      }),
      await fetch(`${api.baseUrl}/healthz`),
      await fetch(`${api.baseUrl}/nowhere`),
    ]) {
      expect(
        Object.fromEntries(
          [
            'x-content-type-options',
            'x-frame-options',
            'referrer-policy',
            'content-security-policy',
            'strict-transport-security',
          ].map((name) => [name, response.headers.get(name)]),
        ),
      ).toEqual({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
      });
    }
  });

  it('keeps CSRF prevention on: a GET query without a preflight header and a text/plain POST get 400', async () => {
    const get = await fetch(`${api.baseUrl}/graphql?query=${encodeURIComponent('{ me { id } }')}`);
    expect(get.status).toBe(400);
    const plain = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query":"{ me { id } }"}',
    });
    expect(plain.status).toBe(400);
  });

  it('puts the request id on every kind of error response', async () => {
    const responses = [
      await api.gql('{ me { id } }', {}, { token: 'forged' }),
      await api.gql('{ me { id ', {}),
      await api.gql('mutation { signUp(input: { email: "bad", password: "short", name: "x" }) { accessToken } }'),
      await api.gql('query { organization(id: "nope") { id } }'),
    ];
    const bare = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const bareBody = (await bare.json()) as { errors: { extensions: { requestId: string } }[] };
    expect(responses.map((response) => response.status)).toEqual([401, 400, 200, 200]);
    for (const response of responses) {
      expect(response.body.errors![0].extensions.requestId).toBe(response.headers.get('x-request-id'));
    }
    expect(bare.status).toBe(400);
    expect(bareBody.errors[0].extensions.requestId).toBe(bare.headers.get('x-request-id'));
  });

  it('refuses introspection', async () => {
    const response = await api.gql(INTROSPECTION);
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      requestId: expect.any(String),
    });
  });

  it('suggests no field names in errors', async () => {
    const response = await api.gql('{ mee { id } }');
    expect(response.body.errors![0].message).not.toMatch(/did you mean/i);
  });

  it('allows only the configured origins by CORS', async () => {
    const preflight = (origin: string) =>
      fetch(`${api.baseUrl}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe(
      'https://app.example.com',
    );
    expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('masks the message of an unexpected error and includes no stack trace', async () => {
    const response = await withTableMissing(api, 'refresh_tokens', () =>
      api.gql(SIGN_UP, { input: { email: uniqueEmail(), password: 'long enough password', name: 'Prod' } }),
    );
    expect(response.body.errors![0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(response.body.errors![0].extensions).not.toHaveProperty('stacktrace');
  });
});
