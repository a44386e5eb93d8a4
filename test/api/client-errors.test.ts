import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { loadConfig } from '../../src/config/config';
import { SUBSCRIPTIONS_OVER_HTTP } from '../../src/platform/graphql/request-guards';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000' });
});

afterAll(async () => {
  await api?.stop();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { errors?: { message: string; extensions: Record<string, unknown> }[] },
  };
}

describe('automatic persisted queries (Apollo APQ protocol)', () => {
  const query = '{ me { id } }';

  it('answers a hash that does not match its query with 400 BAD_REQUEST, not a masked 500', async () => {
    const response = await post({
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ other }') } },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      {
        message: 'provided sha does not match query',
        extensions: { code: 'BAD_REQUEST', requestId: response.headers.get('x-request-id') },
      },
    ]);
  });

  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND, then serves it once registered', async () => {
    const hash = sha256(`${query} # ${Math.random()}`);
    const miss = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });
    expect(miss.status).toBe(200);
    expect(miss.body.errors![0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const text = `${query} # ${hash}`;
    const registered = await post({
      query: text,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } },
    });
    expect(registered.body).toMatchObject({ data: { me: null } });
    const hit = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } } });
    expect(hit.body).toMatchObject({ data: { me: null } });
  });

  it('answers an unsupported protocol version with 400 BAD_REQUEST', async () => {
    const response = await post({ query, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } } });
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('a subscription over HTTP', () => {
  it('gets 400 saying subscriptions are served over WebSocket', async () => {
    const response = await post({ query: 'subscription Live { notificationAdded { id } }' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      {
        message: SUBSCRIPTIONS_OVER_HTTP,
        extensions: { code: 'BAD_REQUEST', requestId: response.headers.get('x-request-id') },
      },
    ]);
    expect(SUBSCRIPTIONS_OVER_HTTP).toMatch(/WebSocket/);
  });
});

describe('the bad-input pack', () => {
  type Attempt = [label: string, send: (requestId: string) => Promise<Response>];
  const json =
    (body: unknown, headers: Record<string, string> = {}) =>
    (requestId: string) =>
      fetch(`${api.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
  const deep = `{ me { ${'memberships { organization { '.repeat(8)}id${' } }'.repeat(8)} } }`;
  const attempts: Attempt[] = [
    ['a body that is not JSON', json('{oops')],
    ['a JSON body that is not an object', json('"just a string"')],
    ['no query', json({})],
    ['a query that is not a string', json({ query: 5 })],
    ['variables that are not an object', json({ query: '{ me { id } }', variables: 'x' })],
    ['a batch', json([{ query: '{ me { id } }' }, { query: '{ me { id } }' }])],
    ['a syntax error', json({ query: '{ me { id ' })],
    ['an unknown field', json({ query: '{ nope }' })],
    [
      'a variable of the wrong type',
      json({ query: 'query($id: ID!) { organization(id: $id) { id } }', variables: { id: { not: 'an id' } } }),
    ],
    ['a missing variable', json({ query: 'query($id: ID!) { organization(id: $id) { id } }' })],
    ['an unknown operation name', json({ query: 'query A { me { id } }', operationName: 'B' })],
    ['two operations and no name', json({ query: 'query A { me { id } } query B { me { id } }' })],
    ['a query too deep', json({ query: deep })],
    ['too many tokens', json({ query: `{ ${'__typename '.repeat(2100)} }` })],
    [
      'a DTO that fails validation',
      json({ query: 'mutation { signUp(input: { email: "bad", password: "short", name: "" }) { accessToken } }' }),
    ],
    ['an id that is not a UUID', json({ query: '{ organization(id: "nope") { id } }' }, {})],
    [
      'a NUL character',
      json({
        query: 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }',
        variables: { i: { email: 'a\u0000@b.c', password: 'p' } },
      }),
    ],
    [
      'a lone surrogate',
      json({
        query: 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }',
        variables: { i: { email: 'a\ud800@b.c', password: 'p' } },
      }),
    ],
    ['a forged token', json({ query: '{ me { id } }' }, { authorization: 'Bearer forged' })],
    [
      'a wrong password',
      json({
        query: 'mutation { logIn(input: { email: "nobody@example.com", password: "wrong password" }) { accessToken } }',
      }),
    ],
    [
      'an APQ hash mismatch',
      json({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
    ],
    [
      'an APQ version 2',
      json({ query: '{ me { id } }', extensions: { persistedQuery: { version: 2, sha256Hash: 'f'.repeat(64) } } }),
    ],
    ['a subscription', json({ query: 'subscription { notificationAdded { id } }' })],
    ['a text/plain POST (CSRF)', json(JSON.stringify({ query: '{ me { id } }' }), { 'content-type': 'text/plain' })],
    ['an unsupported content type', json('<query/>', { 'content-type': 'application/xml' })],
    ['a body over the limit', json({ query: `{ me { id } } # ${'x'.repeat(1_100_000)}` })],
    [
      'a GET without a preflight header (CSRF)',
      (requestId) =>
        fetch(`${api.baseUrl}/graphql?query=${encodeURIComponent('{ me { id } }')}`, {
          headers: { 'x-request-id': requestId },
        }),
    ],
    ['an unknown route', (requestId) => fetch(`${api.baseUrl}/nowhere`, { headers: { 'x-request-id': requestId } })],
    [
      'a PUT',
      (requestId) => fetch(`${api.baseUrl}/graphql`, { method: 'PUT', headers: { 'x-request-id': requestId } }),
    ],
  ];

  it('is answered 4xx (or a 200 carrying the error), never INTERNAL_SERVER_ERROR, each logged once at warn without a stack', async () => {
    const answers: { label: string; status: number; codes: unknown[] }[] = [];
    for (const [index, [label, send]] of attempts.entries()) {
      const response = await send(`pack-${index}`);
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      answers.push({
        label,
        status: response.status,
        codes: (body.errors ?? []).map((error) => error.extensions?.code),
      });
    }
    for (const answer of answers) {
      expect({
        ...answer,
        clientStatus: answer.status === 200 || (answer.status >= 400 && answer.status < 500),
      }).toMatchObject({ label: answer.label, clientStatus: true });
      expect(answer.codes.length).toBeGreaterThan(0);
      expect(answer.codes).not.toContain('INTERNAL_SERVER_ERROR');
    }

    const logged = api.logs.entries.filter((entry) => String(entry.requestId).startsWith('pack-'));
    const levels = logged.reduce<Record<string, number>>(
      (count, entry) => ({ ...count, [String(entry.level)]: (count[String(entry.level)] ?? 0) + 1 }),
      {},
    );
    expect(levels.error ?? 0).toBe(0);
    const unlogged = attempts.filter(
      (_attempt, index) => !logged.some((entry) => entry.requestId === `pack-${index}` && entry.level === 'warn'),
    );
    expect(unlogged.map(([label]) => label)).toEqual([]);
    expect(levels.warn).toBe(attempts.length);
    const warnedIds = logged.filter((entry) => entry.level === 'warn').map((entry) => entry.requestId);
    expect(new Set(warnedIds).size).toBe(attempts.length);
    expect(JSON.stringify(logged)).not.toMatch(/"stack"|\\n\s+at /);
  });
});

/** A raw HTTP client that writes `head` at once, then `dribble` one byte per second; resolves once the server closes. */
function slowClient(head: string, dribble: string): Promise<{ answer: string; bytesDribbled: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(api.baseUrl).port), '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, bytesDribbled: sent });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < dribble.length && !socket.destroyed) socket.write(dribble[sent++]);
      }, 1000);
    });
  });
}

describe('a client that sends a byte per second', () => {
  const body = JSON.stringify({ query: '{ me { id } }', padding: 'x'.repeat(40) });

  it('dribbling the body is answered 408 and its connection closed, long before it finishes', async () => {
    const head = `POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { answer, bytesDribbled } = await slowClient(head, body);
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      errors: [
        {
          message: expect.stringContaining('not received in time'),
          extensions: { code: 'BAD_REQUEST', requestId: /x-request-id: (\S+)/.exec(answer)![1] },
        },
      ],
    });
    expect(bytesDribbled).toBeLessThan(body.length / 2);
  });

  it('dribbling the headers is answered 408 too, and logged as a warning', async () => {
    const headers = 'POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\r\n';
    const { answer, bytesDribbled } = await slowClient('', headers);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(bytesDribbled).toBeLessThan(headers.length / 2);
    const requestId = /x-request-id: (\S+)/.exec(answer)![1];
    expect(api.logs.entries.filter((entry) => entry.requestId === requestId)).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'http request refused',
        status: 408,
        reason: 'ERR_HTTP_REQUEST_TIMEOUT',
      }),
    ]);
  });

  it('connecting and sending nothing is answered 408 and closed too', async () => {
    const { answer } = await slowClient('', '');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('bytes that are not HTTP get 400 in the same shape', async () => {
    const { answer } = await slowClient('NOT HTTP AT ALL\r\n\r\n', '');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"BAD_REQUEST"');
  });

  it('a request received in time is answered however long it takes to handle', async () => {
    const quick = await startTestApp({
      HTTP_HEADERS_TIMEOUT_MS: '100',
      HTTP_REQUEST_TIMEOUT_MS: '100',
      PASSWORD_HASH_COST: '17',
    });
    try {
      const startedAt = Date.now();
      const user = await signUp(quick);
      expect(Date.now() - startedAt).toBeGreaterThan(100);
      expect(user.user.id).toEqual(expect.any(String));
    } finally {
      await quick.stop();
    }
  });

  it('waits 10 s for headers and for the whole request by default', async () => {
    const { config } = loadConfig({});
    expect([config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS]).toEqual([10_000, 10_000]);
    const server = api.app.http.fastify.server;
    expect([server.headersTimeout, server.requestTimeout]).toEqual([1000, 2000]);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '3000', HTTP_REQUEST_TIMEOUT_MS: '2000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS \(3000\) must not exceed/,
    );
  });
});
