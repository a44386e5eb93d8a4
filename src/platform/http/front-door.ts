import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLResponse } from '@apollo/server';
import proxyAddr from '@fastify/proxy-addr';
import { errorCodes } from 'fastify';
import secureJson from 'secure-json-parse';
import { INTERNAL_MESSAGE } from '../graphql/format-error';
import type { Logger } from '../logging/logger';
import type { AppMetrics } from '../metrics/metrics';
import { errorBody } from './client-errors';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of every answer: a sane `x-request-id` from the client, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Requests GraphQL logged itself (one operation line each); every other 4xx answer gets a line from the HTTP layer. */
const loggedByGraphQL = new WeakSet<IncomingMessage>();

export function markLogged(request: IncomingMessage | undefined): void {
  if (request) loggedByGraphQL.add(request);
}

/** What the HTTP layer does once an answer is sent, on either door: the request counter, and a line for a 4xx. */
export function recordAnswer(
  logger: Logger,
  metrics: AppMetrics,
  answer: { request: IncomingMessage; requestId: string; route: string; status: number },
): void {
  const { request, requestId, route, status } = answer;
  metrics.httpRequests.inc({ method: request.method ?? '', route, status: String(status) });
  // A client's mistake is a warning without a stack; 5xx answers were logged where they arose.
  if (status >= 400 && status < 500 && !loggedByGraphQL.has(request)) {
    logger.warn('http request refused', {
      requestId,
      method: request.method,
      route,
      path: (request.url ?? '').split('?')[0],
      status,
    });
  }
}

/** The status and body of an error the HTTP layer answers itself (fastify's error handler, and the front door's). */
export function errorAnswer(
  logger: Logger,
  error: Error & { statusCode?: number; code?: string },
  requestId: string,
): { status: number; body: ReturnType<typeof errorBody> } {
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) {
    logger.error('unexpected http error', { requestId, error });
    return { status: 500, body: errorBody(INTERNAL_MESSAGE, 'INTERNAL_SERVER_ERROR', requestId) };
  }
  const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `Invalid JSON: ${error.message}` : error.message;
  return { status, body: errorBody(message, 'BAD_REQUEST', requestId) };
}

/** Adds `extensions.requestId` to every error of a JSON error body that lacks one. */
export function withRequestId(payload: string, requestId: string): string {
  try {
    const body = JSON.parse(payload) as { errors?: { extensions?: Record<string, unknown> }[] };
    if (!Array.isArray(body.errors)) return payload;
    for (const error of body.errors)
      error.extensions = { ...error.extensions, requestId: error.extensions?.requestId ?? requestId };
    return JSON.stringify(body);
  } catch {
    return payload;
  }
}

/** The client's address as fastify's `request.ip` gives it under the same TRUST_PROXY. */
export function clientAddress(trustProxy: boolean | string[]): (request: IncomingMessage) => string {
  if (trustProxy === false) return (request) => request.socket.remoteAddress ?? '';
  const trust = trustProxy === true ? () => true : proxyAddr.compile(trustProxy);
  return (request) => {
    const addresses = proxyAddr.all(request, trust);
    return addresses[addresses.length - 1] ?? '';
  };
}

export interface FrontDoorOptions<TContext extends BaseContext> {
  apollo: ApolloServer<TContext>;
  /** Where GraphQL is served (exactly this path, no query string: those go through fastify). */
  path: string;
  logger: Logger;
  metrics: AppMetrics;
  bodyLimitBytes: number;
  /** The headers every answer carries (security headers), besides x-request-id. */
  headers: Record<string, string>;
  /** CORS is on: a request with an Origin header goes through fastify, where @fastify/cors answers it. */
  corsEnabled: boolean;
  /** Off (shutting down, or a mode the door does not serve): every request goes through fastify. */
  open(): boolean;
  /** Adds the request id to 4xx GraphQL error bodies (off only for Apollo's own test suite). */
  requestIdInErrors: boolean;
  /** Runs a request's GraphQL work: where the server sets up its log scope (and, at debug level, its async scope). */
  around<T>(request: IncomingMessage, requestId: string, work: () => Promise<T>): Promise<T>;
  context(request: IncomingMessage, response: ServerResponse): Promise<TContext>;
}

/** `application/json` as clients send it; any other type (or none) goes through fastify and Apollo's own checks. */
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/**
 * The GraphQL front door: `POST <path>` with a JSON body of a declared
 * length, answered straight from node:http through Apollo's
 * `executeHTTPGraphQLRequest`, without fastify's request pipeline (its
 * request and reply objects, hooks, content-type parser and the
 * @as-integrations adapter: 7-10% of a one-statement query's CPU in the
 * profile). Everything else (GET, other types, chunked or too-large bodies,
 * cross-origin requests while CORS is on, tracing, shutdown) returns false
 * and fastify serves it. What the client sees is the same on either door:
 * the request id, the security headers, Apollo's answer, the same 400 and
 * 413 bodies, the same metrics and log lines; Apollo's HTTP test suite runs
 * against both (test/platform/apollo-integration.test.ts).
 */
export function graphqlFrontDoor<TContext extends BaseContext>(
  options: FrontDoorOptions<TContext>,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { apollo, path, logger, metrics, bodyLimitBytes, headers: fixedHeaders, corsEnabled } = options;
  const parseOptions = { protoAction: 'error', constructorAction: 'error' } as const;

  async function serve(request: IncomingMessage, response: ServerResponse, declaredBytes: number): Promise<void> {
    const requestId = requestIdOf(request);
    response.setHeader('x-request-id', requestId);
    for (const name in fixedHeaders) response.setHeader(name, fixedHeaders[name]);
    response.once('finish', () =>
      recordAnswer(logger, metrics, { request, requestId, route: path, status: response.statusCode }),
    );
    try {
      const text = await readBody(request, declaredBytes);
      if (text.length === 0) throw new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY();
      let body: unknown;
      try {
        body = secureJson.parse(text, parseOptions);
      } catch {
        // Bad syntax, or a `__proto__` / `constructor.prototype` key: fastify's JSON parser refuses both alike.
        throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
      }
      const headers = new HeaderMap();
      for (const name in request.headers) {
        const value = request.headers[name];
        if (value) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const answer = await options.around(request, requestId, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: 'POST', headers, search: '', body },
          context: () => options.context(request, response),
        }),
      );
      await send(response, answer, requestId);
    } catch (error) {
      if (response.headersSent) {
        logger.error('unexpected http error', { requestId, error });
        response.destroy();
        return;
      }
      const { status, body } = errorAnswer(logger, error as Error, requestId);
      // As fastify does after a body it could not read: the client may still be sending.
      if (status < 500) response.setHeader('connection', 'close');
      writeJson(response, status, JSON.stringify(body));
    }
  }

  async function send(response: ServerResponse, answer: HTTPGraphQLResponse, requestId: string): Promise<void> {
    for (const [name, value] of answer.headers) response.setHeader(name, value);
    const status = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      const payload =
        options.requestIdInErrors && status >= 400 ? withRequestId(answer.body.string, requestId) : answer.body.string;
      response.statusCode = status;
      response.end(payload);
      return;
    }
    // Incremental delivery (not enabled with graphql 16): written as it comes.
    response.statusCode = status;
    for await (const chunk of answer.body.asyncIterator) response.write(chunk);
    response.end();
  }

  return (request, response) => {
    if (request.method !== 'POST' || request.url !== path || !options.open()) return false;
    const type = request.headers['content-type'];
    if (type === undefined || !JSON_TYPES.has(type.toLowerCase())) return false;
    if (corsEnabled && request.headers.origin !== undefined) return false;
    const length = request.headers['content-length'];
    if (length === undefined || request.headers['transfer-encoding'] !== undefined) return false;
    const declared = Number(length);
    if (!Number.isInteger(declared) || declared < 0 || declared > bodyLimitBytes) return false;
    void serve(request, response, declared);
    return true;
  };
}

function writeJson(response: ServerResponse, status: number, payload: string): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(payload);
}

/** The body as a string, once `declaredBytes` have arrived (Node's parser holds a request to its Content-Length). */
function readBody(request: IncomingMessage, declaredBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    request.once('end', () => {
      if (received !== declaredBytes) reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      else resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, received).toString('utf8'));
    });
    request.once('error', (error: Error & { statusCode?: number }) => {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      reject(error);
    });
  });
}
