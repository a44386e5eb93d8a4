import type { ApolloServerPlugin } from '@apollo/server';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLError } from 'graphql';
import type { RequestContext } from '../graphql/context';
import { classifyError, codeOf } from '../graphql/format-error';
import { tracer } from './spans';

/**
 * The span of one HTTP request to GraphQL, active for all its work (the
 * context factory, resolvers, SQL): the child of an incoming W3C
 * `traceparent`, else a new trace; ended when the response is done. Only
 * called with tracing on.
 */
export function inRequestSpan<T>(request: FastifyRequest, reply: FastifyReply, route: string, work: () => T): T {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const span = tracer().startSpan(
    `${request.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        'http.route': route,
        'url.path': route,
        'client.address': request.ip,
        'groundwork.request_id': request.id,
      },
    },
    parent,
  );
  reply.raw.once('close', () => {
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), work);
}

/**
 * One span per GraphQL operation (never per field), child of the request's:
 * `query Name`, with the operation's type, name and cost, and its error
 * codes; failed when an unexpected error occurred. Installed only with
 * tracing on.
 */
export function operationSpanPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const span = tracer().startSpan('graphql operation', { kind: SpanKind.INTERNAL });
      const codes = new Set<string>();
      return {
        async didResolveOperation({ operationName, operation }) {
          const type = operation?.operation ?? 'operation';
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors as readonly GraphQLError[]) {
            const kind = classifyError(error);
            codes.add(codeOf(kind));
            if (kind.kind === 'unexpected') span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
          }
        },
        async willSendResponse({ response }) {
          const cost =
            response.body.kind === 'single'
              ? (response.body.singleResult.extensions?.cost as { requested?: number } | undefined)?.requested
              : undefined;
          if (cost !== undefined) span.setAttribute('groundwork.graphql.cost', cost);
          if (codes.size > 0) span.setAttribute('groundwork.graphql.error_codes', [...codes]);
          span.end();
        },
      };
    },
  };
}
