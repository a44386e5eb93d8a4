import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getNamedType,
  GraphQLError,
  isObjectType,
  Kind,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type TypeNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { QueryTooComplexError, RateLimitedError, type QueryLimitName } from '../errors';
import { spend, type RateLimiter } from '../rate-limit';
import { DEFAULT_PAGE_SIZE } from '../pagination';
import type { RequestContext } from './context';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** Nodes a query could touch: a connection multiplies what it selects by `first` (GitHub's node limit). */
  maxCost: number;
}

/** The found value graphql-armor puts in its messages ("…exceeded, found 16."). */
function foundIn(message: string): number | undefined {
  const match = /found (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** graphql-armor's rules, reporting QUERY_TOO_COMPLEX (limit, max, found) instead of a syntax error. */
function armorRule(
  limit: QueryLimitName,
  max: number,
  make: (onReject: (context: ValidationContext | null, error: GraphQLError) => void) => ValidationRule,
): ValidationRule {
  return make((context, error) => {
    context?.reportError(
      new GraphQLError(error.message, { originalError: new QueryTooComplexError(limit, max, foundIn(error.message)) }),
    );
  });
}

/** Validation rules: they run once per distinct document (Apollo caches validated documents). */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  const common = { exposeLimits: true, propagateOnRejection: false };
  return [
    armorRule('depth', limits.maxDepth, (onReject) =>
      maxDepthRule({ ...common, n: limits.maxDepth, ignoreIntrospection: true, onReject: [onReject] }),
    ),
    // __typename is free; aliases inside fragments count where the fragment is spread.
    armorRule('aliases', limits.maxAliases, (onReject) =>
      maxAliasesRule({ ...common, n: limits.maxAliases, allowList: ['__typename'], onReject: [onReject] }),
    ),
    armorRule('directives', limits.maxDirectives, (onReject) =>
      maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [onReject] }),
    ),
  ];
}

// graphql-js 16 spells it "more that"; both spellings are accepted in case a release fixes it.
const TOKEN_LIMIT = /^Syntax Error: Document contains more (?:than|that) (\d+) tokens/;

/** graphql-js's own parser stops at `maxTokens` (Apollo's parseOptions); its syntax error becomes QUERY_TOO_COMPLEX here. */
export function tokenLimitError(error: GraphQLError): QueryTooComplexError | undefined {
  const match = TOKEN_LIMIT.exec(error.message);
  return match ? new QueryTooComplexError('tokens', Number(match[1])) : undefined;
}

/**
 * Every field costs 1; a connection (a field returning `…Connection` with a
 * `first` argument) costs 1 + first (or `last`, which takes precedence) ×
 * what it selects, so nested pages multiply as they do in the database.
 */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const named = getNamedType(field.type);
  if (isObjectType(named) && named.name.endsWith('Connection') && field.args.some((arg) => arg.name === 'first')) {
    const size = [args.last, args.first].find((value) => typeof value === 'number' && value > 0) as number | undefined;
    return 1 + (size ?? DEFAULT_PAGE_SIZE) * childComplexity;
  }
  return 1 + childComplexity;
};

/** The cost of one operation as the HTTP path computes it (the WebSocket path charges subscriptions the same); throws on variables that do not coerce. */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName?: string,
): number {
  return getComplexity({ schema, query: document, variables, operationName, estimators: [connectionEstimator] });
}

/** Cost points per minute, GitHub-style: per signed-in user, and per client address. */
export interface ApiBudget {
  perUser: RateLimiter;
  perIp: RateLimiter;
}

/**
 * Computes each operation's cost once its variables are known, refuses one
 * above `maxCost` before any resolver (or SQL) runs, spends it from the
 * viewer's and the address's budgets (RATE_LIMITED, HTTP 429, once spent),
 * and reports the cost in every response's `extensions.cost`
 * (`{ requested, limit }`).
 */
export function queryCostPlugin(
  schema: GraphQLSchema,
  maxCost: number,
  budget: ApiBudget,
): ApolloServerPlugin<RequestContext> {
  const costs = new CostCache();
  return {
    async requestDidStart() {
      let requested: number | undefined;
      return {
        async didResolveOperation({ request, document, operation, operationName, contextValue }) {
          requested = operation
            ? costs.of(document, operation, request.variables ?? {}, () =>
                getComplexity({
                  schema,
                  query: document,
                  variables: request.variables ?? {},
                  operationName: operationName ?? undefined,
                  estimators: [connectionEstimator],
                }),
              )
            : undefined;
          // Variables that do not coerce: execution refuses them (BAD_USER_INPUT) before any resolver runs.
          if (requested === undefined) return;
          if (requested > maxCost) {
            throw new GraphQLError(`The query exceeds the cost limit of ${maxCost} (it has ${requested})`, {
              originalError: new QueryTooComplexError('cost', maxCost, requested),
              extensions: { http: { status: 400 } },
            });
          }
          try {
            // Both budgets at once: one round trip to Redis of wait instead of two.
            const { viewer } = contextValue;
            await Promise.all([
              viewer.kind === 'user' ? spend(budget.perUser, viewer.userId, requested) : undefined,
              spend(budget.perIp, contextValue.ip, requested),
            ]);
          } catch (error) {
            if (!(error instanceof RateLimitedError)) throw error;
            throw new GraphQLError('The API budget for this minute is spent; try again later', {
              originalError: error,
              extensions: { http: { status: 429 } },
            });
          }
        },
        async willSendResponse({ response }) {
          if (requested === undefined || response.body.kind !== 'single') return;
          response.body.singleResult.extensions = {
            ...response.body.singleResult.extensions,
            cost: { requested, limit: maxCost },
          };
        },
      };
    },
  };
}

/** The variables that can change an operation's cost: page sizes (Int) and @skip/@include conditions (Boolean). */
function costVariables(operation: OperationDefinitionNode): string[] {
  const named = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : named(type.type));
  return (operation.variableDefinitions ?? [])
    .filter((definition) => ['Int', 'Boolean'].includes(named(definition.type)))
    .map((definition) => definition.variable.name.value);
}

/**
 * Costs remembered per document (the DocumentNode Apollo's document store
 * hands back for the same query text) and operation, keyed by the values of
 * the variables that can change the cost; an id or a filter does not, so one
 * query shape is analysed once however many organizations it is asked of.
 * At most MAX_COSTS_PER_OPERATION entries each; a cost that cannot be computed
 * (variables that do not coerce) is not remembered.
 */
const MAX_COSTS_PER_OPERATION = 64;

class CostCache {
  private readonly byDocument = new WeakMap<
    DocumentNode,
    Map<OperationDefinitionNode, { variables: string[]; costs: Map<string, number> }>
  >();

  of(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    compute: () => number,
  ): number | undefined {
    let byOperation = this.byDocument.get(document);
    if (!byOperation) {
      byOperation = new Map();
      this.byDocument.set(document, byOperation);
    }
    let entry = byOperation.get(operation);
    if (!entry) {
      entry = { variables: costVariables(operation), costs: new Map() };
      byOperation.set(operation, entry);
    }
    // Unset and null differ: an unset variable takes the operation's default.
    const key = JSON.stringify(entry.variables.map((name) => (name in variables ? [variables[name]] : [])));
    let cost = entry.costs.get(key);
    if (cost === undefined) {
      try {
        cost = compute();
      } catch {
        return undefined;
      }
      if (entry.costs.size >= MAX_COSTS_PER_OPERATION) entry.costs.clear();
      entry.costs.set(key, cost);
    }
    return cost;
  }
}
