import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../../config/config';
import { AppError, BadUserInputError, QueryTooComplexError, RateLimitedError, UnauthenticatedError } from '../errors';
import { Loaders, type RequestContext, type Viewer } from '../graphql/context';
import { classifyError, describeValidation } from '../graphql/format-error';
import { invalidTextIn } from '../graphql/input-text';
import { operationCost, queryLimitRules, type ApiBudget, type QueryLimits } from '../graphql/query-limits';
import type { Logger } from '../logging/logger';
import { spend } from '../rate-limit';
import { LiveCloseCode } from './close-codes';
import { LiveSocket } from './live-socket';
import { attachConnection } from './live-hub';
import { subscribePerEvent } from './live-execution';
import type { LiveMetrics } from './metrics';

export interface LiveServerOptions {
  config: Config;
  logger: Logger;
  schema: GraphQLSchema;
  metrics: LiveMetrics;
  /** The HTTP path's: the same bearer token, the same viewer. */
  authenticate(authorization: string | undefined): Promise<Viewer>;
  limits: QueryLimits;
  budget: ApiBudget;
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  path: string;
}

export interface LiveServer {
  /** Refuses new sockets, lets queued events go out (bounded by `drainMs`), closes every socket with 1001. */
  close(drainMs: number): Promise<void>;
}

type Extra = {
  socket: WebSocket;
  request: IncomingMessage;
  connection?: LiveSocket;
};

/**
 * The client's address for the per-address budget and the anonymous connection cap: the socket's peer, or with
 * TRUST_PROXY=true the first X-Forwarded-For entry, as fastify reads it. A list of trusted proxies is not walked here
 * (the peer is used), which only makes the address coarser.
 */
function clientAddress(request: IncomingMessage, trustProxy: boolean | string[]): string {
  const forwarded = request.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  if (trustProxy === true && first) return first;
  return request.socket.remoteAddress ?? 'unknown';
}

/** A graphql-js error with `code` unless it carries one of ours (an AppError) already. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.originalError instanceof AppError || error.extensions.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { code },
  });
}

const NOT_SUBSCRIPTION = 'Over WebSocket only subscriptions are served; send queries and mutations to POST /graphql';

/**
 * GraphQL over WebSocket (graphql-transport-ws, graphql-ws's useServer) on
 * the HTTP server's port and path: connection_init authenticates like the
 * Authorization header, each subscription passes the HTTP path's limits
 * (tokens, depth, aliases, directives, cost and the cost budget) and the
 * caps of LIVE_*, and every event is executed with fresh loaders.
 */
export function attachLiveServer(server: Server, options: LiveServerOptions): LiveServer {
  const { config, logger, schema, metrics } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.HTTP_BODY_LIMIT_BYTES });
  const perUser = new Map<string, number>();
  const sockets = new Set<LiveSocket>();
  let closing = false;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (path !== options.path) return refuse('404 Not Found');
    if (closing) return refuse('503 Service Unavailable');
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  wss.on('connection', (ws: WebSocket) => {
    metrics.connections += 1;
    ws.once('close', () => (metrics.connections -= 1));
  });

  const errorsOf = (errors: readonly GraphQLError[], requestId: string): GraphQLFormattedError[] =>
    errors.map((error) => {
      const formatted = options.formatError(error.toJSON(), error);
      return { ...formatted, extensions: { ...formatted.extensions, requestId } };
    });
  const requestIdOf = (ctx: Context<Record<string, unknown>, Extra>, id: string) =>
    `${ctx.extra.connection?.id ?? 'ws'}:${id}`;
  const validationRules = [...specifiedRules, ...queryLimitRules(options.limits)];
  const refusal = (error: AppError) => [new GraphQLError(error.message, { originalError: error })];

  useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: config.LIVE_CONNECTION_INIT_TIMEOUT_MS,
      async onConnect(ctx) {
        // `Authorization`, as a header is spelt, is accepted too (tools that send their headers as the payload).
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (authorization !== undefined && typeof authorization !== 'string') return false;
        let viewer: Viewer;
        try {
          viewer = await options.authenticate(authorization);
        } catch (error) {
          if (error instanceof UnauthenticatedError) return false;
          throw error;
        }
        const ip = clientAddress(ctx.extra.request, config.trustProxy);
        const key = viewer.kind === 'user' ? viewer.userId : `ip:${ip}`;
        if ((perUser.get(key) ?? 0) >= config.LIVE_MAX_CONNECTIONS_PER_USER) {
          metrics.closedWith(LiveCloseCode.TOO_MANY_CONNECTIONS);
          ctx.extra.socket.close(LiveCloseCode.TOO_MANY_CONNECTIONS, 'Too many connections');
          return false;
        }
        perUser.set(key, (perUser.get(key) ?? 0) + 1);
        const connection = new LiveSocket({
          id: randomUUID(),
          key,
          viewer,
          ip,
          userAgent: ctx.extra.request.headers['user-agent'],
          socket: ctx.extra.socket,
          config,
          metrics,
          onDisposed: () => {
            sockets.delete(connection);
            const left = (perUser.get(key) ?? 1) - 1;
            if (left > 0) perUser.set(key, left);
            else perUser.delete(key);
          },
        });
        sockets.add(connection);
        ctx.extra.connection = connection;
        return true;
      },
      onClose(ctx) {
        ctx.extra.connection?.dispose();
      },
      async onSubscribe(ctx, id, payload) {
        const connection = ctx.extra.connection!;
        const requestId = `${connection.id}:${id}`;
        if (Object.keys(ctx.subscriptions).length > config.LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return refusal(
            new RateLimitedError(
              1,
              `This connection has ${config.LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions already; complete one first`,
            ),
          );
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxLexicalTokens: options.limits.maxTokens });
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          // The codes Apollo gives the same mistakes over HTTP; a document past the token limit is QUERY_TOO_COMPLEX.
          return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
        }
        const invalid = validate(schema, document, validationRules);
        if (invalid.length > 0) return invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation)
          return [new GraphQLError('Unable to identify the operation', { extensions: { code: 'BAD_REQUEST' } })];
        if (operation.operation !== OperationTypeNode.SUBSCRIPTION)
          return [new GraphQLError(NOT_SUBSCRIPTION, { extensions: { code: 'BAD_REQUEST' } })];
        const variables = payload.variables ?? {};
        const badText = invalidTextIn(schema, document, operation, variables);
        if (badText.length > 0) return refusal(new BadUserInputError(describeValidation(badText), badText));
        let cost: number | undefined;
        try {
          cost = operationCost(schema, document, variables, payload.operationName ?? undefined);
        } catch {
          cost = undefined; // variables that do not coerce: execution refuses them with BAD_USER_INPUT
        }
        if (cost !== undefined && cost > options.limits.maxCost)
          return refusal(new QueryTooComplexError('cost', options.limits.maxCost, cost));
        try {
          if (cost !== undefined) {
            if (connection.viewer.kind === 'user') await spend(options.budget.perUser, connection.viewer.userId, cost);
            await spend(options.budget.perIp, connection.ip, cost);
          }
        } catch (error) {
          if (error instanceof RateLimitedError) return refusal(error);
          throw error;
        }
        const contextValue: RequestContext = {
          requestId,
          logger: logger.child({
            requestId,
            ...(connection.viewer.kind === 'user' ? { userId: connection.viewer.userId } : {}),
          }),
          config,
          viewer: connection.viewer,
          loaders: new Loaders(connection.viewer),
          ip: connection.ip,
          userAgent: connection.userAgent,
        };
        attachConnection(contextValue, connection);
        contextValue.logger.debug('live subscription', { operationName: payload.operationName ?? null });
        return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue };
      },
      subscribe: (args) => subscribePerEvent(args),
      onNext(ctx, id, _payload, _args, result) {
        metrics.sent += 1;
        if (!result.errors) return;
        for (const error of result.errors) {
          const kind = classifyError(error);
          if (kind.kind === 'unexpected')
            logger.error('unexpected error in a subscription', { requestId: requestIdOf(ctx, id), error: kind.error });
        }
        return { ...result, errors: errorsOf(result.errors, requestIdOf(ctx, id)) };
      },
      onError(ctx, id, _payload, errors) {
        logger.warn('live subscription refused', {
          requestId: requestIdOf(ctx, id),
          errors: errors.map((error) => error.message),
        });
        return errorsOf(errors, requestIdOf(ctx, id));
      },
    },
    wss,
    config.LIVE_KEEPALIVE_MS > 0 ? config.LIVE_KEEPALIVE_MS : Infinity,
  );

  return {
    async close(drainMs) {
      closing = true;
      const deadline = Date.now() + drainMs;
      // Draining: what is queued for a socket goes out first (bounded), then 1001 and the client reconnects elsewhere.
      while (Date.now() < deadline && [...sockets].some((socket) => !socket.drained())) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))),
      );
      for (const ws of wss.clients) {
        metrics.closedWith(LiveCloseCode.GOING_AWAY);
        ws.close(LiveCloseCode.GOING_AWAY, 'Going away');
      }
      const forced = setTimeout(
        () => {
          for (const ws of wss.clients) ws.terminate();
        },
        Math.max(100, deadline - Date.now()),
      );
      await Promise.all(closed);
      clearTimeout(forced);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
