import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, OperationTypeNode } from 'graphql';
import { BadUserInputError } from '../errors';
import type { RequestContext } from './context';
import { describeValidation } from './format-error';
import { invalidTextIn } from './input-text';

export const SUBSCRIPTIONS_OVER_HTTP =
  'Subscriptions are not served over HTTP: open a WebSocket to this path (graphql-transport-ws) and subscribe there';

/**
 * Refuses, with a 400 and before any resolver runs, what a client should
 * never send: a subscription over HTTP, and text PostgreSQL cannot store
 * (NUL, unpaired surrogates) in any argument, literal or variable, whatever
 * its type (BAD_USER_INPUT naming the field). Checked here, once, so no
 * field needs a rule of its own and nothing of it reaches a service.
 */
export function requestGuardsPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request, schema }) {
          if (!operation) return;
          if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
            throw new GraphQLError(SUBSCRIPTIONS_OVER_HTTP, {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          const invalid = invalidTextIn(schema, document, operation, request.variables);
          if (invalid.length > 0) {
            const error = new BadUserInputError(describeValidation(invalid), invalid);
            throw new GraphQLError(error.message, { originalError: error, extensions: { http: { status: 400 } } });
          }
        },
      };
    },
  };
}
