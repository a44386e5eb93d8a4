import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type ExecutionResult,
  type OperationDefinitionNode,
  type TypeNode,
  type VariableDefinitionNode,
  getVariableValues,
  visit,
  BREAK,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { RequestContext } from './context';

/** How operations are executed: graphql-js's interpreter, or graphql-jit's compiled functions (one per document). */
export type GraphQLExecutorName = 'graphql-js' | 'jit';

type Gateway = NonNullable<ApolloServerOptionsWithGateway<RequestContext>['gateway']>;

/** Compiled operations kept, the least recently used dropped first: one per distinct query text and operation name. */
export const JIT_CACHE_SIZE = 1000;

/**
 * The variable type graphql-jit sees instead of an enum, a custom scalar or
 * an input object: it hands the value on as it is, because graphql-js has
 * coerced it already (defaults applied, enum names turned into values,
 * DateTime into a Date); graphql-jit's own coercion would do it again, and
 * does not apply an input object's field defaults.
 */
const COERCED = new GraphQLScalarType({ name: 'GroundworkCoercedVariable', parseValue: (value) => value });

/** The built-in scalars: graphql-jit's coercion leaves a value graphql-js has coerced as it is, so their definitions stay. */
const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

/**
 * graphql-jit as Apollo Server's executor, for queries and mutations. Apollo
 * runs everything before execution as always (parse, validation with the
 * query limits, the request guards and cost analysis in didResolveOperation);
 * then this coerces the variables with graphql-js (`getVariableValues`, as
 * graphql-js's execute does: defaults applied, the same errors, which Apollo
 * answers as BAD_USER_INPUT with status 400) and runs the operation compiled
 * once per document. What graphql-jit cannot compile, introspection and
 * every subscription run on graphql-js. Errors are handed to Apollo as
 * graphql-js GraphQLErrors with their path, locations and original error, as
 * graphql-js's own are.
 */
export function jitGateway(schema: GraphQLSchema, cacheSize = JIT_CACHE_SIZE): Gateway {
  // The same types and resolvers, plus the pass-through variable type the compiled operations declare.
  const jitSchema = new GraphQLSchema({ ...schema.toConfig(), types: [...schema.toConfig().types, COERCED] });
  const compiled = new LruCache<CompiledQuery | undefined>(cacheSize);

  function compiledFor(
    key: string,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    operationName: string | undefined,
  ): CompiledQuery | undefined {
    if (compiled.has(key)) return compiled.get(key);
    if (introspects(document)) {
      compiled.set(key, undefined);
      return undefined;
    }
    const result = compileQuery(jitSchema, withCoercedVariables(document, operation), operationName);
    const query = isCompiledQuery(result) ? result : undefined;
    compiled.set(key, query);
    return query;
  }

  return {
    async load() {
      return {
        schema,
        async executor(request): Promise<ExecutionResult> {
          const { document, operation, context } = request;
          const operationName = request.request.operationName ?? undefined;
          const variables = request.request.variables ?? {};
          const interpreted = () =>
            execute({ schema, document, contextValue: context, variableValues: variables, operationName });
          if (!operation || operation.operation === OperationTypeNode.SUBSCRIPTION) return interpreted();
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 50 });
          if (coerced.errors) return { errors: coerced.errors };
          const query = compiledFor(
            `${request.queryHash}\u0000${operationName ?? ''}`,
            document,
            operation,
            operationName,
          );
          if (!query) return interpreted();
          const result = await query.query(undefined, context, coerced.coerced);
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result;
        },
      };
    },
    // The schema never changes: Apollo hears of it once, as it subscribes.
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {},
  };
}

/** The document with every variable that is not a built-in scalar declared as the pass-through type (see COERCED). */
function withCoercedVariables(document: DocumentNode, operation: OperationDefinitionNode): DocumentNode {
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.every((definition) => BUILT_IN_SCALARS.has(namedType(definition.type)))) return document;
  const passThrough = (definition: VariableDefinitionNode): VariableDefinitionNode =>
    BUILT_IN_SCALARS.has(namedType(definition.type))
      ? definition
      : {
          ...definition,
          type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: COERCED.name } },
          defaultValue: undefined,
        };
  const rewritten: OperationDefinitionNode = { ...operation, variableDefinitions: definitions.map(passThrough) };
  return {
    ...document,
    definitions: document.definitions.map((definition) => (definition === operation ? rewritten : definition)),
  };
}

/** Introspection runs on graphql-js: graphql-jit's schema has one type more (COERCED), which must not show there. */
function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

/**
 * graphql-jit's errors carry `locations` but no AST nodes, and no
 * `extensions` object when their cause has none (Apollo reads
 * `extensions.code` of every error): the graphql-js error graphql-js's
 * execute would have made.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const converted = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? undefined,
  });
  (converted as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return converted;
}

/** A Map kept to `size` entries, the least recently read or written dropped first. */
class LruCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly size: number) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value as V);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
  }
}
