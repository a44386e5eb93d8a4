import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type AuthChecker, type ContainerType, type NonEmptyArray, type PubSub } from 'type-graphql';
import { UnauthenticatedError } from '../errors';
import { validateArgument } from './argument-validation';
import type { RequestContext } from './context';

/** Signed in, or UNAUTHENTICATED. Roles belong to organizations, so services check them, not this. */
const authChecker: AuthChecker<RequestContext> = ({ context }) => {
  if (context.viewer.kind !== 'user') throw new UnauthenticatedError();
  return true;
};

/** The tiny container of ARCHITECTURE.md: type-graphql asks for a resolver class, gets the instance the module built. */
function containerOf(classes: Function[], instances: object[]): ContainerType {
  const byClass = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  const missing = classes
    .filter((resolverClass) => !byClass.has(resolverClass))
    .map((resolverClass) => resolverClass.name);
  if (missing.length > 0) throw new Error(`No instance was built for resolver ${missing.join(', ')}`);
  return { get: (resolverClass: Function) => byClass.get(resolverClass) };
}

/** The pub-sub of a schema built to be printed: its Subscription fields are never subscribed to. */
const PRINT_ONLY: PubSub = {
  publish() {
    throw new Error('This schema was built to be printed, not served');
  },
  subscribe() {
    throw new Error('This schema was built to be printed, not served');
  },
};

/**
 * Without instances the schema can be printed but not executed (schema export, drift test). `pubSub` serves the
 * Subscription fields: the live hub, fed by the event stream.
 */
export async function buildGraphQLSchema(
  classes: Function[],
  instances?: object[],
  pubSub: PubSub = PRINT_ONLY,
): Promise<GraphQLSchema> {
  if (classes.length === 0) throw new Error('At least one module must contribute a resolver');
  return buildSchema({
    resolvers: classes as NonEmptyArray<Function>,
    container: instances ? containerOf(classes, instances) : undefined,
    authChecker,
    pubSub,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Input DTOs through class-validator, with the options in argument-validation.ts; checkedInCode types skip it.
    validateFn: validateArgument,
  });
}

/** The SDL committed as schema.graphql: sorted, so the file changes only when the schema does. */
export function printSchemaSDL(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
