import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyCors from '@fastify/cors';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Config } from '../../config/config';
import { UnauthenticatedError } from '../errors';
import { AfterResponse, Loaders, ScopedRequestContext, type Viewer } from '../graphql/context';
import { createErrorFormatter } from '../graphql/format-error';
import { operationPlugin } from '../graphql/operation-plugin';
import { rememberQueryHashes } from '../graphql/query-hash';
import { queryCostPlugin, queryLimitRules } from '../graphql/query-limits';
import { jitGateway } from '../graphql/jit-executor';
import { requestGuardsPlugin } from '../graphql/request-guards';
import { RequestLog, requestScope, type Logger } from '../logging/logger';
import { inRequestSpan, operationSpanPlugin } from '../telemetry/request-spans';
import { tracingEnabled } from '../telemetry/spans';
import { startMetricsServer, type AppMetrics } from '../metrics/metrics';
import type { ModuleRoutes } from '../module';
import type { RateLimits } from '../rate-limit';
import { clientErrorHandler, connectionsCheckingInterval, errorBody } from './client-errors';
import {
  clientAddress,
  errorAnswer,
  graphqlFrontDoor,
  markLogged,
  recordAnswer,
  requestIdOf,
  withRequestId,
} from './front-door';
import { GRAPHIQL_PATH, graphiqlEnabled, serveGraphiql } from './graphiql';
import { rememberMediaTypeChoices } from './media-type-choices';
import { metricsAuthorizer, metricsExposure, servePublicMetrics } from './metrics-endpoint';
import { runReadinessChecks, type ReadinessCheck } from './readiness';
import type { RedisApqCache } from '../graphql/redis-apq-cache';
import { attachLiveServer } from '../live/live-server';
import type { LiveMetrics } from '../live/metrics';

export interface HttpServerOptions {
  config: Config;
  logger: Logger;
  /** The API's schema, served on /graphql; none (ROLE=worker): only /healthz, /readyz and /metrics, 404 elsewhere. */
  schema: GraphQLSchema | undefined;
  /** Turns the Authorization header into a viewer; throws UnauthenticatedError for a bad token. */
  authenticate(authorization: string | undefined): Promise<Viewer>;
  readinessChecks: ReadinessCheck[];
  metrics: AppMetrics;
  rateLimits: RateLimits;
  /** Where automatic persisted queries are kept: Redis when configured (shared by every instance), else Apollo's in-memory cache. */
  persistedQueries?: RedisApqCache;
  /** The modules' plain HTTP routes, each in a scope of its own (request ids, security headers and errors as for every route). */
  routes?: ModuleRoutes[];
  /** Subscriptions over WebSocket on the GraphQL path (the schema's Subscription fields, fed by the live hub); absent: no upgrades. */
  live?: { metrics: LiveMetrics };
}

/** The response headers a browser's script may read (CORS). */
const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

/**
 * What @fastify/cors adds to an answer to a request without an Origin header, for the front door to add the same
 * (test/api/front-door.test.ts compares both doors' headers). A list with "*" in it makes it send
 * `access-control-allow-origin: *` too: such a server leaves every request to fastify (undefined).
 */
export function corsHeadersWithoutOrigin(origins: true | string[] | false): Record<string, string> | undefined {
  if (origins === false) return {};
  if (Array.isArray(origins) && origins.includes('*')) return undefined;
  return { vary: 'Origin', 'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', ') };
}

export interface HttpServer {
  readonly fastify: FastifyInstance;
  /** Listens on HOST:PORT (and METRICS_HOST:METRICS_PORT when set) and returns the GraphQL URL (/readyz's without a schema). */
  listen(): Promise<string>;
  /** Where /metrics is served, once listening (undefined: nowhere, as in production by default). */
  readonly metricsUrl: string | undefined;
  /**
   * Stops accepting, drains and closes WebSocket connections with 1001, lets requests in flight finish (each bounded
   * by SHUTDOWN_TIMEOUT_MS), stops Apollo.
   */
  close(): Promise<void>;
}

/**
 * The fastify instance every GraphQL route of ours runs in: request ids
 * (taken from a sane x-request-id, echoed in the header and in every 4xx
 * GraphQL error), security headers, CORS, JSON 404 and error bodies, the
 * body limit, and HTTP metrics. Apollo's own HTTP test suite runs against it
 * (test/platform/apollo-integration.test.ts).
 */
export interface FastifyOptions {
  /** Where GraphQL is served: its 4xx error bodies get the request id. */
  graphqlPath?: string;
  /** Off only for Apollo's test suite, whose snapshots are Apollo's bodies to the letter. */
  requestIdInGraphQLErrors?: boolean;
  /**
   * Asked first for every request: true when it answered it itself (the GraphQL front door, set once Apollo has
   * started), false to leave it to fastify.
   */
  frontDoor?: { handle?: (request: IncomingMessage, response: ServerResponse) => boolean };
}

export async function createFastify(
  config: Config,
  logger: Logger,
  metrics: AppMetrics,
  options: FastifyOptions = {},
): Promise<FastifyInstance> {
  const { graphqlPath = '/graphql', requestIdInGraphQLErrors = true, frontDoor } = options;
  const fastify = Fastify({
    logger: false,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: requestIdOf,
    forceCloseConnections: 'idle',
    bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
    // Our node:http server, so the front door sees each request before fastify does; fastify serves the rest.
    serverFactory: (fastifyHandler) => {
      const server = createServer(
        {
          // A client dribbling its headers or body must not hold a connection: 408 and closed once past these.
          headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
          requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
          connectionsCheckingInterval: connectionsCheckingInterval([
            config.HTTP_HEADERS_TIMEOUT_MS,
            config.HTTP_REQUEST_TIMEOUT_MS,
          ]),
        },
        (request, response) => {
          if (!frontDoor?.handle?.(request, response)) fastifyHandler(request, response);
        },
      );
      // What fastify sets on a server it makes itself (its default keep-alive).
      server.keepAliveTimeout = 72_000;
      return server;
    },
    clientErrorHandler: clientErrorHandler(logger, {
      requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
      headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
    }),
  });

  const securityHeaders = jsonApiSecurityHeaders(config);
  // Hooks take a callback, not a promise: each async hook costs a promise and a microtask per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    reply.headers(securityHeaders);
    done();
  });

  const corsOrigins = config.corsOrigins;
  if (corsOrigins !== false) {
    await fastify.register(fastifyCors, { origin: corsOrigins, exposedHeaders: CORS_EXPOSED_HEADERS });
  }

  fastify.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(`Route ${request.method} ${request.url} not found`, 'NOT_FOUND', request.id));
  });
  fastify.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const { status, body } = errorAnswer(logger, error, request.id);
    void reply.code(status).send(body);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    recordAnswer(logger, metrics, {
      request: request.raw,
      requestId: request.id,
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
    });
    done();
  });
  // Errors Apollo answers before its request pipeline (bad token, no query) are not seen by the operation
  // plugin; they are the only error responses with a 4xx status and no request id yet.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (
      !requestIdInGraphQLErrors ||
      reply.statusCode < 400 ||
      typeof payload !== 'string' ||
      !request.url.startsWith(graphqlPath)
    )
      done(null, payload);
    else done(null, withRequestId(payload, request.id));
  });

  return fastify;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, logger } = options;
  let shuttingDown = false;

  const { metrics } = options;
  const frontDoor: NonNullable<FastifyOptions['frontDoor']> = {};
  const fastify = await createFastify(config, logger, metrics, { frontDoor });
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  const exposure = metricsExposure(config);
  const metricsAuthorized = metricsAuthorizer(config.METRICS_TOKEN);
  if (exposure.where === 'public-port') servePublicMetrics(fastify, metrics, metricsAuthorized);
  fastify.get('/readyz', async (_request, reply) => {
    if (shuttingDown) return reply.code(503).send({ status: 'shutting down', checks: {} });
    const report = await runReadinessChecks(options.readinessChecks, config.READINESS_TIMEOUT_MS);
    return reply
      .code(report.ready ? 200 : 503)
      .send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  });
  const schema = options.schema;
  const graphiql = schema !== undefined && graphiqlEnabled(config) && serveGraphiql(fastify, logger);
  // Modules' own routes are part of the API: a worker (no schema) serves only the operations endpoints.
  if (schema !== undefined) for (const routes of options.routes ?? []) await fastify.register(routes);

  const limits = {
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxAliases: config.GRAPHQL_MAX_ALIASES,
    maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
    maxTokens: config.GRAPHQL_MAX_TOKENS,
    maxCost: config.GRAPHQL_MAX_COST,
  };
  const budget = {
    perUser: options.rateLimits.create({
      keyPrefix: 'api-budget-user',
      points: config.API_BUDGET_PER_USER_PER_MINUTE,
      durationSeconds: 60,
    }),
    perIp: options.rateLimits.create({
      keyPrefix: 'api-budget-ip',
      points: config.API_BUDGET_PER_IP_PER_MINUTE,
      durationSeconds: 60,
    }),
  };
  const formatError = createErrorFormatter({ exposeInternalErrors: config.isDevelopment });
  // Apollo hands plugins a shallow copy of the context: its loaders, made per request, are what identifies the request.
  const requestOf = new WeakMap<Loaders, IncomingMessage>();
  // Read once: with tracing off, the request path does not touch OpenTelemetry at all.
  const tracing = tracingEnabled();
  // Apollo hashes each query text to find its parsed document, and negotiates media types twice per request: both
  // remembered, not recomputed per request.
  rememberQueryHashes();
  rememberMediaTypeChoices();
  const apollo =
    schema &&
    new ApolloServer<ScopedRequestContext>({
      // GRAPHQL_EXECUTOR=jit: queries and mutations run compiled by graphql-jit, behind Apollo's executor hook.
      ...(config.GRAPHQL_EXECUTOR === 'jit' ? { gateway: jitGateway(schema) } : { schema }),
      introspection: config.introspectionEnabled,
      csrfPrevention: true,
      hideSchemaDetailsFromClientErrors: config.isProduction,
      includeStacktraceInErrorResponses: config.isDevelopment,
      formatError,
      stopOnTerminationSignals: false,
      // A JSON array of operations is refused (400): batching would multiply every limit below by the batch's length.
      allowBatchedHttpRequests: false,
      parseOptions: { maxLexicalTokens: config.GRAPHQL_MAX_TOKENS },
      persistedQueries: options.persistedQueries ? { cache: options.persistedQueries } : undefined,
      validationRules: queryLimitRules(limits),
      plugins: [
        ...lightweightPlugins(config),
        requestGuardsPlugin(),
        operationPlugin(metrics, { onLogged: (context) => markLogged(requestOf.get(context.loaders)) }),
        queryCostPlugin(schema, limits.maxCost, budget),
        // Last: its willSendResponse reads the cost the plugin above reports.
        ...(tracing ? [operationSpanPlugin()] : []),
      ],
    });
  await apollo?.start();

  const scopes = new WeakMap<IncomingMessage, RequestLog>();
  const ipOf = clientAddress(config.trustProxy);
  // A request's context, whichever door it came in by: its viewer (401 for a bad token), loaders and log scope.
  const contextOf = async (request: IncomingMessage, response: ServerResponse, ip: string) => {
    const scope = scopes.get(request)!;
    const viewer = await authenticateOrReject(options, request, scope);
    if (viewer.kind === 'user') scope.fields.userId = viewer.userId;
    const loaders = new Loaders(viewer);
    requestOf.set(loaders, request);
    // 'close' comes after the answer was handed to the socket, or when the client went away first.
    const afterResponse = new AfterResponse((run) => (response.closed ? run() : void response.once('close', run)));
    return new ScopedRequestContext(scope, {
      config,
      viewer,
      loaders,
      ip,
      userAgent: request.headers['user-agent'],
      afterResponse: afterResponse.add,
    });
  };
  const handleGraphQL =
    apollo &&
    fastifyApolloHandler(apollo, {
      context: (request: FastifyRequest, reply: FastifyReply) => contextOf(request.raw, reply.raw, request.ip),
    });
  // Request ids on SQL lines need AsyncLocalStorage, whose promise hooks cost about 30% of the throughput
  // of a large nested response on Node 20 (measured: 62 vs 87 requests/s); so only when SQL is logged.
  const traceSql = logger.isDebugEnabled();
  type ApolloHandlerArgs = Parameters<NonNullable<typeof handleGraphQL>>;
  if (handleGraphQL)
    fastify.route({
      method: ['GET', 'POST'],
      url: '/graphql',
      handler(request, reply) {
        const scope = new RequestLog(logger, request.id);
        scopes.set(request.raw, scope);
        const handle = () => handleGraphQL.call(this, request as ApolloHandlerArgs[0], reply as ApolloHandlerArgs[1]);
        const run = traceSql ? () => requestScope.run(scope, handle) : handle;
        return tracing ? inRequestSpan(request, reply, '/graphql', run) : run();
      },
    });
  // POST /graphql with a JSON body, the API's traffic, skips fastify's pipeline (front-door.ts); with spans on,
  // every request takes fastify's route above, where the request span is wired.
  const corsHeaders = corsHeadersWithoutOrigin(config.corsOrigins);
  if (apollo && !tracing && corsHeaders)
    frontDoor.handle = graphqlFrontDoor({
      apollo,
      path: '/graphql',
      logger,
      metrics,
      bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
      headers: { ...jsonApiSecurityHeaders(config), ...corsHeaders },
      corsEnabled: config.corsOrigins !== false,
      open: () => !shuttingDown,
      requestIdInErrors: true,
      around: (request, requestId, work) => {
        const scope = new RequestLog(logger, requestId);
        scopes.set(request, scope);
        return traceSql ? requestScope.run(scope, work) : work();
      },
      context: (request, response) => contextOf(request, response, ipOf(request)),
    });
  const live =
    schema &&
    options.live &&
    attachLiveServer(fastify.server, {
      config,
      logger,
      schema,
      metrics: options.live.metrics,
      authenticate: options.authenticate,
      limits,
      budget,
      formatError,
      path: '/graphql',
    });
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let publicOrigin: string | undefined;
  return {
    fastify,
    get metricsUrl() {
      if (exposure.where === 'own-port') return metricsServer?.url;
      return exposure.where === 'public-port' && publicOrigin ? `${publicOrigin}/metrics` : undefined;
    },
    async listen() {
      await fastify.listen({ host: config.HOST, port: config.PORT });
      const { port } = fastify.server.address() as AddressInfo;
      const wildcard = config.HOST === '0.0.0.0' || config.HOST === '::';
      const host = wildcard ? 'localhost' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
      publicOrigin = `http://${host}:${port}`;
      if (exposure.where === 'own-port')
        metricsServer = await startMetricsServer(metrics, exposure.host, exposure.port, metricsAuthorized);
      if (exposure.where === 'nowhere')
        logger.info(
          'GET /metrics is not served: set METRICS_PORT (a private listener) or METRICS_TOKEN (a bearer token)',
        );
      if (graphiql) logger.info(`GraphiQL, offline (no CDN), at ${publicOrigin}${GRAPHIQL_PATH}`);
      return `${publicOrigin}${schema ? '/graphql' : '/readyz'}`;
    },
    async close() {
      shuttingDown = true;
      await metricsServer?.close();
      // Upgraded sockets keep the HTTP server open: they go first, each client told to reconnect elsewhere (1001).
      await live?.close(config.SHUTDOWN_TIMEOUT_MS);
      const forceClose = setTimeout(() => fastify.server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
      try {
        await fastify.close();
      } finally {
        clearTimeout(forceClose);
      }
      await apollo?.stop();
    },
  };
}

/** A bad token fails the whole request with 401 UNAUTHENTICATED, so a client knows to refresh. */
async function authenticateOrReject(
  options: HttpServerOptions,
  request: IncomingMessage,
  scope: RequestLog,
): Promise<Viewer> {
  try {
    return await options.authenticate(request.headers.authorization);
  } catch (error) {
    if (error instanceof UnauthenticatedError) {
      scope.log('warn', 'graphql operation', { outcome: 'rejected', errorCodes: [error.code] });
      markLogged(request);
      throw new GraphQLError(error.message, { originalError: error, extensions: { http: { status: 401 } } });
    }
    scope.log('error', 'authentication failed unexpectedly', { error });
    throw error;
  }
}

/**
 * The headers that matter for a JSON API (OWASP REST Security Cheat Sheet):
 * no sniffing, no framing, no referrer, and nothing loaded by a page that
 * is not there: the Sandbox landing page, where enabled, needs its scripts,
 * so the content security policy applies only without it. HSTS in production.
 */
export function jsonApiSecurityHeaders(config: Config): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    ...(config.sandboxEnabled ? {} : { 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" }),
    ...(config.isProduction ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/** The lean request path of ARCHITECTURE.md: no per-field plugins, no reporting. */
function lightweightPlugins(config: Config): ApolloServerPlugin<ScopedRequestContext>[] {
  return [
    ApolloServerPluginCacheControlDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    config.sandboxEnabled
      ? ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false })
      : ApolloServerPluginLandingPageDisabled(),
  ];
}
