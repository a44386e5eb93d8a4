import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { graphqlFrontDoor } from '../../src/platform/http/front-door';
import { createLogger } from '../../src/platform/logging/logger';
import { AppMetrics } from '../../src/platform/metrics/metrics';
import { MemoryTransport } from '../support/memory-transport';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

/*
 * POST /graphql with a JSON body is answered by the front door
 * (src/platform/http/front-door.ts) without fastify's pipeline; the same
 * request with a query string goes through fastify's route. A client must not
 * be able to tell them apart.
 */

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP request (no client library adding or normalising anything), and the answer with lower-case header names. */
function send(url: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = httpRequest(
      { host: target.hostname, port: target.port, path, method: 'POST', headers, agent: false },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const answerHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers))
            if (name !== 'date') answerHeaders[name.toLowerCase()] = String(value);
          resolve({ status: response.statusCode!, headers: answerHeaders, body: text });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const json = (body: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/json',
  'content-length': String(Buffer.byteLength(body)),
  ...extra,
});

describe.each([
  ['CORS off', ''],
  ['CORS for a list of origins', 'https://app.example.com,https://admin.example.com'],
  ['CORS for any origin', '*'],
])('either door gives the same answer (%s)', (_name, corsOrigins) => {
  let api: TestApp;
  let token: string;

  beforeAll(async () => {
    api = await startTestApp({ CORS_ORIGINS: corsOrigins });
    token = (await signUp(api)).accessToken;
  });

  afterAll(async () => {
    await api?.stop();
  });

  const cases: [string, () => { body: string; headers?: Record<string, string> }][] = [
    [
      'a query',
      () => ({ body: JSON.stringify({ query: '{ me { id email } }' }), headers: { authorization: `Bearer ${token}` } }),
    ],
    [
      'a query, charset given',
      () => ({
        body: JSON.stringify({ query: '{ __typename }' }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      }),
    ],
    [
      'a mutation that fails validation',
      () => ({
        body: JSON.stringify({ query: 'mutation { createOrganization(input: { name: "" }) { id } }' }),
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
    ['a query that does not validate', () => ({ body: JSON.stringify({ query: '{ nope }' }) })],
    ['no query', () => ({ body: JSON.stringify({ variables: {} }) })],
    [
      'a bad token',
      () => ({ body: JSON.stringify({ query: '{ __typename }' }), headers: { authorization: 'Bearer not-a-token' } }),
    ],
    ['invalid JSON', () => ({ body: '{"query":' })],
    ['an empty body', () => ({ body: '' })],
    ['a __proto__ key', () => ({ body: '{"__proto__":{"admin":true},"query":"{ __typename }"}' })],
    ['a batch (refused)', () => ({ body: JSON.stringify([{ query: '{ __typename }' }]) })],
  ];

  it.each(cases)('%s', async (name, make) => {
    const { body, headers } = make();
    const requestHeaders = json(body, { 'x-request-id': `door-${name.replace(/\W+/g, '-')}`, ...headers });
    const front = await send(api.baseUrl, '/graphql', requestHeaders, body);
    const fastify = await send(api.baseUrl, '/graphql?door=fastify', requestHeaders, body);
    expect(front).toEqual(fastify);
    expect(front.headers['x-request-id']).toBe(requestHeaders['x-request-id']);
  });

  it('counts and logs a refused request as fastify does', async () => {
    const body = '{"query":';
    await send(api.baseUrl, '/graphql', json(body, { 'x-request-id': 'refused-at-the-door' }), body);
    expect(api.logs.entries.filter((entry) => entry.requestId === 'refused-at-the-door')).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'http request refused',
        method: 'POST',
        route: '/graphql',
        path: '/graphql',
        status: 400,
      }),
    ]);
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_total\{method="POST",route="\/graphql",status="400"\} [1-9]/m);
  });
});

describe('the front door takes only what it answers the same way', () => {
  let server: Server;
  let url: string;
  let open = true;
  const toFastify: string[] = [];

  beforeAll(async () => {
    const apollo = new ApolloServer({
      typeDefs: 'type Query { hello: String }',
      resolvers: { Query: { hello: () => 'hi' } },
    });
    await apollo.start();
    const logger = createLogger({ level: 'info', format: 'json', transports: [new MemoryTransport()] });
    const door = graphqlFrontDoor({
      apollo,
      path: '/graphql',
      logger,
      metrics: new AppMetrics(),
      bodyLimitBytes: 1000,
      headers: {},
      corsEnabled: true,
      open: () => open,
      requestIdInErrors: true,
      around: (_request, _id, work) => work(),
      context: () => Promise.resolve({}),
    });
    server = createServer((request, response) => {
      if (door(request, response)) return;
      // Stands in for fastify: records what was left to it.
      toFastify.push(`${request.method} ${request.url} ${request.headers['content-type'] ?? ''}`.trim());
      request.resume();
      request.on('end', () => response.writeHead(418).end());
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  beforeEach(() => {
    toFastify.length = 0;
    open = true;
  });

  const query = JSON.stringify({ query: '{ hello }' });

  it('answers POST /graphql with a JSON body of a declared length', async () => {
    const answer = await send(url, '/graphql', json(query), query);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { hello: 'hi' } });
    expect(toFastify).toEqual([]);
  });

  it('leaves everything else to fastify', async () => {
    await send(url, '/graphql?x=1', json(query), query);
    await send(url, '/graphql', { 'content-type': 'text/plain', 'content-length': String(query.length) }, query);
    await send(url, '/graphql', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, query);
    await send(url, '/graphql', json(query, { origin: 'https://app.example.com' }), query);
    const big = JSON.stringify({ query: `{ hello ${' '.repeat(1000)}}` });
    await send(url, '/graphql', json(big), big);
    await send(url, '/other', json(query), query);
    open = false;
    await send(url, '/graphql', json(query), query);
    expect(toFastify).toEqual([
      'POST /graphql?x=1 application/json',
      'POST /graphql text/plain',
      'POST /graphql application/json',
      'POST /graphql application/json',
      'POST /graphql application/json',
      'POST /other application/json',
      'POST /graphql application/json',
    ]);
  });
});
