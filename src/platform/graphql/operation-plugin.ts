import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { LogLevel } from '../errors';
import { requestScope } from '../logging/logger';
import type { AppMetrics } from '../metrics/metrics';
import type { RequestContext } from './context';
import { classifyError, codeOf } from './format-error';

/**
 * The one per-operation plugin: names the logger after the operation, logs
 * unexpected errors with their stack, puts the request id on every error,
 * writes one line per operation, and turns RATE_LIMITED into a Retry-After
 * header. Nothing here runs per field.
 */
export function operationPlugin(metrics: AppMetrics): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const startedAt = performance.now();
      const errorCodes = new Set<string>();
      let retryAfterSeconds = 0;
      let level: LogLevel = 'info';
      let operationLabel = 'unparsed';

      return {
        async didResolveOperation({ operationName, operation }) {
          const name = operationName ?? `anonymous ${operation?.operation ?? 'operation'}`;
          operationLabel = metrics.operationLabel(name);
          contextValue.logger = contextValue.logger.child({ operationName: name });
          const scope = requestScope.getStore();
          if (scope) scope.logger = contextValue.logger;
        },

        async didEncounterErrors({ errors }) {
          for (const error of errors as readonly GraphQLError[]) {
            const kind = classifyError(error);
            errorCodes.add(codeOf(kind));
            level = louder(level, kind.kind === 'app' ? kind.error.logLevel : kind.kind === 'unexpected' ? 'error' : 'info');
            if (kind.kind === 'unexpected') {
              contextValue.logger.error('unexpected error', { error: kind.error, path: error.path?.join('.') });
            } else if (kind.kind === 'app' && kind.error.code === 'RATE_LIMITED') {
              const seconds = kind.error.extensions().retryAfterSeconds as number;
              retryAfterSeconds = Math.max(retryAfterSeconds, seconds);
            }
          }
        },

        async willSendResponse(requestContext: GraphQLRequestContextWillSendResponse<RequestContext>) {
          const { body } = requestContext.response;
          if (body.kind === 'single') {
            for (const error of body.singleResult.errors ?? []) {
              (error as { extensions?: Record<string, unknown> }).extensions = { ...error.extensions, requestId: contextValue.requestId };
            }
          }
          if (retryAfterSeconds > 0) requestContext.response.http.headers.set('retry-after', String(retryAfterSeconds));
          const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
          const outcome = errorCodes.size === 0 ? 'ok' : 'error';
          metrics.graphqlOperations.observe({ operation: operationLabel, outcome: errorCodes.size === 0 ? 'ok' : [...errorCodes][0] }, durationMs / 1000);
          const logger = requestContext.contextValue.logger;
          logger.log(level, 'graphql operation', {
            durationMs,
            outcome,
            ...(errorCodes.size > 0 ? { errorCodes: [...errorCodes] } : {}),
          });
        },
      };
    },
  };
}

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function louder(a: LogLevel, b: LogLevel): LogLevel {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
