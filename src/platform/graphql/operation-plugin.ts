import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { RateLimitedError, ServiceUnavailableError, type LogLevel } from '../errors';
import type { AppMetrics } from '../metrics/metrics';
import type { ScopedRequestContext } from './context';
import { classifyError, codeOf, type ErrorKind } from './format-error';

/**
 * The one per-operation plugin: names the request's log lines after the operation, logs
 * unexpected errors with their stack (a client's mistakes are warnings,
 * without one), puts the request id on every error, writes one line per
 * operation, turns RATE_LIMITED into a Retry-After header, and
 * SERVICE_UNAVAILABLE into HTTP 503 with one. Nothing here runs per field.
 */
export function operationPlugin(
  metrics: AppMetrics,
  options: { onLogged?(context: ScopedRequestContext): void } = {},
): ApolloServerPlugin<ScopedRequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const startedAt = performance.now();
      const errorCodes = new Set<string>();
      let retryAfterSeconds = 0;
      let unavailable: string | undefined;
      let level: LogLevel = 'info';
      let operationLabel = 'unparsed';

      return {
        async didResolveOperation({ operationName, operation }) {
          const name = operationName ?? `anonymous ${operation?.operation ?? 'operation'}`;
          operationLabel = metrics.operationLabel(name);
          // Every later line of the request carries it: the scope's fields are read when a line is written.
          contextValue.scope.fields.operationName = name;
        },

        async didEncounterErrors({ errors }) {
          for (const error of errors as readonly GraphQLError[]) {
            const kind = classifyError(error);
            errorCodes.add(codeOf(kind));
            level = louder(level, levelOf(kind));
            if (kind.kind === 'unexpected') {
              contextValue.logger.error('unexpected error', { error: kind.error, path: error.path?.join('.') });
            } else if (
              kind.kind === 'app' &&
              (kind.error instanceof RateLimitedError || kind.error instanceof ServiceUnavailableError)
            ) {
              retryAfterSeconds = Math.max(retryAfterSeconds, kind.error.retryAfterSeconds);
              if (kind.error instanceof ServiceUnavailableError) unavailable ??= kind.error.reason;
            }
          }
        },

        async willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<ScopedRequestContext>) {
          const { body } = requestContext.response;
          if (body.kind === 'single') {
            for (const error of body.singleResult.errors ?? []) {
              (error as { extensions?: Record<string, unknown> }).extensions = {
                ...error.extensions,
                requestId: contextValue.requestId,
              };
            }
          }
          if (retryAfterSeconds > 0) requestContext.response.http.headers.set('retry-after', String(retryAfterSeconds));
          if (errorCodes.has('SERVICE_UNAVAILABLE')) requestContext.response.http.status = 503;
          const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
          const outcome = errorCodes.size === 0 ? 'ok' : 'error';
          metrics.graphqlOperations.observe(
            { operation: operationLabel, outcome: errorCodes.size === 0 ? 'ok' : [...errorCodes][0] },
            durationMs / 1000,
          );
          contextValue.scope.log(level, 'graphql operation', {
            durationMs,
            outcome,
            ...(errorCodes.size > 0 ? { errorCodes: [...errorCodes] } : {}),
            ...(unavailable === undefined ? {} : { unavailable }),
          });
          options.onLogged?.(contextValue);
        },
      };
    },
  };
}

/** Our faults are errors; a client's mistakes warnings; an APQ miss is the protocol's first step, not a mistake. */
function levelOf(kind: ErrorKind): LogLevel {
  if (kind.kind === 'unexpected') return 'error';
  if (kind.kind === 'app') return kind.error.logLevel;
  return kind.kind === 'request' && kind.code === 'PERSISTED_QUERY_NOT_FOUND' ? 'info' : 'warn';
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function louder(a: LogLevel, b: LogLevel): LogLevel {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
