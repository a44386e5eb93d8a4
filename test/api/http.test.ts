import { expectedChecks } from '../support/readiness';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api?.stop();
});

describe('request ids', () => {
  it('echoes a sane x-request-id in the response header and in every error', async () => {
    const response = await api.gql('{ nope }', {}, { headers: { 'x-request-id': 'client-abc.123' } });
    expect(response.headers.get('x-request-id')).toBe('client-abc.123');
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      requestId: 'client-abc.123',
    });
  });

  it.each([
    ['too long', 'x'.repeat(200)],
    ['with spaces', 'a b'],
    ['with odd characters', 'id<script>'],
  ])('replaces a request id that is %s with a new UUID', async (_label, header) => {
    const response = await api.gql('{ me { id } }', {}, { headers: { 'x-request-id': header } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives every request a new id when none is sent', async () => {
    const [first, second] = await Promise.all([api.gql('{ me { id } }'), api.gql('{ me { id } }')]);
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });
});

describe('error responses', () => {
  it('answers a syntax error with GRAPHQL_PARSE_FAILED and the request id', async () => {
    const response = await api.gql('{ me { id ');
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'GRAPHQL_PARSE_FAILED',
      requestId: response.headers.get('x-request-id'),
    });
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST and the request id', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST', requestId: response.headers.get('x-request-id') });
  });

  it('answers a request without a query with 400 BAD_REQUEST and the request id', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ variables: {} }),
    });
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0].extensions).toMatchObject({
      code: 'BAD_REQUEST',
      requestId: response.headers.get('x-request-id'),
    });
  });

  it('answers an unknown route with 404 NOT_FOUND and the request id', async () => {
    const response = await fetch(`${api.baseUrl}/nowhere`);
    const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(response.status).toBe(404);
    expect(body.errors[0].extensions).toEqual({ code: 'NOT_FOUND', requestId: response.headers.get('x-request-id') });
  });
});

describe('CSRF prevention', () => {
  it('refuses a GET query without a header a browser form cannot send', async () => {
    const response = await fetch(`${api.baseUrl}/graphql?query=${encodeURIComponent('{ me { id } }')}`);
    expect(response.status).toBe(400);
  });

  it('serves a GET query that carries apollo-require-preflight', async () => {
    const response = await fetch(`${api.baseUrl}/graphql?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: null }, extensions: { cost: { requested: 2, limit: 50000 } } });
  });

  it('refuses a text/plain POST, which a cross-site form could send', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(response.status).toBe(400);
  });
});

describe('operations endpoints', () => {
  it('answers /healthz with 200', async () => {
    const response = await fetch(`${api.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 naming each dependency it checked', async () => {
    const response = await fetch(`${api.baseUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: expectedChecks(api) });
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight, reports not ready, then refuses new connections', async () => {
    // A slow hash keeps signUp in flight long enough to shut down under it.
    const slow = await startTestApp({ PASSWORD_HASH_COST: '16' });
    await signUp(slow);
    // Stop once the server has the request, however long the client took to send it.
    const received = new Promise((resolve) => slow.app.http.fastify.server.once('request', resolve));
    const inFlight = slow.gql(
      `mutation { signUp(input: { email: "inflight@example.com", password: "long enough password", name: "In Flight" }) { user { id email } } }`,
    );
    await received;

    const stopping = slow.app.stop();
    const readiness = await slow.app.http.fastify.inject({ method: 'GET', url: '/readyz' });
    expect(readiness.statusCode).toBe(503);

    const response = await inFlight;
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.signUp.user.email).toBe('inflight@example.com');
    await stopping;

    await expect(fetch(`${slow.baseUrl}/healthz`)).rejects.toThrow();
    await slow.stop();
  });
});
