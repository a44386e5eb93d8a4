import type { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type AuthChecker, type ContainerType, type NonEmptyArray } from 'type-graphql';
import { UnauthenticatedError } from '../errors';
import type { RequestContext } from './context';

/** Signed in, or UNAUTHENTICATED. Roles belong to organizations, so services check them, not this. */
const authChecker: AuthChecker<RequestContext> = ({ context }) => {
  if (context.viewer.kind !== 'user') throw new UnauthenticatedError();
  return true;
};

/** The tiny container of ARCHITECTURE.md: type-graphql asks for a resolver class, gets the instance the module built. */
function containerOf(resolvers: object[]): ContainerType {
  const byClass = new Map<Function, object>(resolvers.map((resolver) => [resolver.constructor, resolver]));
  return {
    get(someClass: Function) {
      const instance = byClass.get(someClass);
      if (!instance) throw new Error(`No instance was built for resolver ${someClass.name}`);
      return instance;
    },
  };
}

export async function buildGraphQLSchema(resolvers: object[]): Promise<GraphQLSchema> {
  if (resolvers.length === 0) throw new Error('At least one module must contribute a resolver');
  const classes = resolvers.map((resolver) => resolver.constructor) as NonEmptyArray<Function>;
  return buildSchema({
    resolvers: classes,
    container: containerOf(resolvers),
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    validate: { forbidUnknownValues: true, validationError: { target: false, value: false } },
  });
}
