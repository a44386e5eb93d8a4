// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { ApolloServer } from '@apollo/server';
import {
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  GraphQLUnionType,
  type GraphQLResolveInfo,
} from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { jitGateway } from '../../src/platform/graphql/jit-executor';

/**
 * graphql-jit behind Apollo's executor hook, against graphql-js on the same
 * schema: the same answers, errors included, and graphql-js's variable
 * coercion (defaults of input-object fields, enum values, custom scalars).
 */
const executors: string[] = [];
const noted = (info: GraphQLResolveInfo) => executors.push(info.schema === schema ? 'graphql-js' : 'jit');

// Internal values that differ from the names: coercing a coerced value again would fail.
const Priority = new GraphQLEnumType({ name: 'Priority', values: { LOW: { value: 1 }, HIGH: { value: 9 } } });
const TaskInput = new GraphQLInputObjectType({
  name: 'TaskInput',
  fields: {
    title: { type: new GraphQLNonNull(GraphQLString) },
    priority: { type: Priority, defaultValue: 1 },
    size: { type: GraphQLInt, defaultValue: 3 },
    due: { type: DateTimeResolver },
    // Not JSON: graphql-jit's own coercion writes defaults into its generated code as JSON, so this came as a string.
    since: { type: DateTimeResolver, defaultValue: new Date('2026-01-01T00:00:00.000Z') },
    tags: { type: new GraphQLList(new GraphQLNonNull(GraphQLString)), defaultValue: ['new'] },
  },
});
const Node = new GraphQLInterfaceType({ name: 'Node', fields: { id: { type: new GraphQLNonNull(GraphQLID) } } });
const Task = new GraphQLObjectType({
  name: 'Task',
  interfaces: [Node],
  isTypeOf: (value: { kind?: string }) => value.kind === 'task',
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    title: { type: GraphQLString },
    priority: { type: Priority },
    size: { type: GraphQLInt },
    due: { type: DateTimeResolver },
    since: { type: DateTimeResolver },
    tags: { type: new GraphQLList(GraphQLString) },
    old: { type: GraphQLString, deprecationReason: 'Use title', resolve: () => 'old' },
    failing: {
      type: GraphQLString,
      resolve: () => {
        throw new GraphQLError('Task not found', { extensions: { code: 'NOT_FOUND' } });
      },
    },
    required: { type: new GraphQLNonNull(GraphQLString), resolve: () => null },
  },
});
const Person = new GraphQLObjectType({
  name: 'Person',
  interfaces: [Node],
  isTypeOf: (value: { kind?: string }) => value.kind === 'person',
  fields: { id: { type: new GraphQLNonNull(GraphQLID) }, name: { type: GraphQLString } },
});
const Found = new GraphQLUnionType({
  name: 'Found',
  types: [Task, Person],
  resolveType: (value: { kind: string }) => (value.kind === 'task' ? 'Task' : 'Person'),
});
const things = [
  { kind: 'task', id: 't1', title: 'One', priority: 9, size: 2, due: new Date('2026-01-02T03:04:05.000Z'), tags: [] },
  { kind: 'person', id: 'p1', name: 'Ada' },
];
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      node: {
        type: Node,
        args: { id: { type: new GraphQLNonNull(GraphQLID) } },
        resolve: (_root, { id }: { id: string }, _context, info) => {
          noted(info);
          return things.find((thing) => thing.id === id);
        },
      },
      search: { type: new GraphQLList(Found), resolve: () => things },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: {
      echo: {
        type: Task,
        args: { input: { type: new GraphQLNonNull(TaskInput) } },
        resolve: (_root, { input }: { input: Record<string, unknown> }, _context, info) => {
          noted(info);
          for (const field of ['due', 'since'])
            if (!(input[field] == null || input[field] instanceof Date)) throw new Error(`${field} is not a Date`);
          return { kind: 'task', id: 'echo', ...input };
        },
      },
    },
  }),
});

let interpreted: ApolloServer;
let compiled: ApolloServer;

beforeAll(async () => {
  interpreted = new ApolloServer({ schema });
  compiled = new ApolloServer({ gateway: jitGateway(schema) });
  await Promise.all([interpreted.start(), compiled.start()]);
});

afterAll(async () => {
  await Promise.all([interpreted?.stop(), compiled?.stop()]);
});

async function run(server: ApolloServer, query: string, variables?: Record<string, unknown>) {
  const response = await server.executeOperation({ query, variables });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return { status: response.http.status, result: JSON.parse(JSON.stringify(response.body.singleResult)) };
}

/** Runs on both, checks graphql-jit did run it, and returns what both answered (the same). */
async function both(query: string, variables?: Record<string, unknown>, ranOnJit = true) {
  executors.length = 0;
  const viaJit = await run(compiled, query, variables);
  if (ranOnJit) expect(executors).toContain('jit');
  const viaGraphQLJs = await run(interpreted, query, variables);
  expect(viaJit).toEqual(viaGraphQLJs);
  return viaJit;
}

const ECHO = `mutation($input: TaskInput!) { echo(input: $input) { id title priority size due since tags } }`;

describe('GRAPHQL_EXECUTOR=jit', () => {
  it('applies the defaults of input-object fields and coerces enums and custom scalars as graphql-js does', async () => {
    const { result } = await both(ECHO, { input: { title: 'Hello', due: '2026-05-06T07:08:09Z' } });
    expect(result.data.echo).toEqual({
      id: 'echo',
      title: 'Hello',
      priority: 'LOW',
      size: 3,
      due: '2026-05-06T07:08:09.000Z',
      since: '2026-01-01T00:00:00.000Z',
      tags: ['new'],
    });
    const explicit = await both(ECHO, { input: { title: 'Hi', priority: 'HIGH', size: null, tags: 'one' } });
    expect(explicit.result.data.echo).toMatchObject({ priority: 'HIGH', size: null, tags: ['one'] });
  });

  it('answers a variable that does not coerce with BAD_USER_INPUT and status 400, before any resolver', async () => {
    executors.length = 0;
    for (const input of [{ title: 5 }, { title: 'x', priority: 'MEDIUM' }, { title: 'x', due: 'yesterday' }, {}]) {
      const { status, result } = await both(ECHO, { input }, false);
      expect(status).toBe(400);
      expect(result.data).toBeUndefined();
      expect(result.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    expect(executors).toEqual([]);
  });

  it('resolves interfaces and unions, and reports resolver errors and null bubbling with path and locations', async () => {
    const { result } = await both(
      `query($id: ID!) { node(id: $id) { __typename id ... on Task { title priority failing } }
        search { __typename ... on Person { name } ... on Task { id required } } }`,
      { id: 't1' },
    );
    expect(result.data.node).toEqual({ __typename: 'Task', id: 't1', title: 'One', priority: 'HIGH', failing: null });
    expect(result.data.search).toEqual([null, { __typename: 'Person', name: 'Ada' }]);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: ['node', 'failing'],
          locations: [expect.any(Object)],
          extensions: { code: 'NOT_FOUND' },
        }),
        expect.objectContaining({ path: ['search', 0, 'required'] }),
      ]),
    );
  });

  it('serves deprecated fields, and introspection on graphql-js without its own pass-through type', async () => {
    await both(`{ node(id: "t1") { ... on Task { old } } }`);
    const { result } = await both(
      `{ __schema { types { name } } __type(name: "Task") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`,
      undefined,
      false,
    );
    expect(result.data.__schema.types.map((type: { name: string }) => type.name)).not.toContain(
      'GroundworkCoercedVariable',
    );
    expect(result.data.__type.fields).toContainEqual({
      name: 'old',
      isDeprecated: true,
      deprecationReason: 'Use title',
    });
  });
});
