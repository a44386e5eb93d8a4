import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  astFromValue,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  print,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { buildApiSchema } from '../../src/app';
import { createOrganization, INVITE, membershipIdOf, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

/** Text PostgreSQL cannot store: a NUL, and a UTF-16 surrogate without its pair. */
const HOSTILE = { 'a NUL character': 'before\u0000after', 'a lone surrogate': 'before\ud800after' };

let api: TestApp;
let owner: Session;
/** Real ids of the owner's records, so each operation would get as far as the database with a valid input. */
let ids: Record<string, string>;

beforeAll(async () => {
  api = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_HTTP_HOSTS: '127.0.0.1' });
  owner = await signUp(api);
  const organization = await createOrganization(api, owner, 'Hostile');
  const project = await createProject(api, owner, organization.id);
  const task = await createTask(api, owner, project.id);
  const endpoint = await ok(
    api.gql(
      'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }',
      {
        input: { organizationId: organization.id, url: 'http://127.0.0.1:9/hook', eventTypes: ['task.deleted'] },
      },
      { token: owner.accessToken },
    ),
  );
  ids = {
    organizationId: organization.id,
    projectId: project.id,
    taskId: task.id,
    membershipId: await membershipIdOf(api, owner, organization.id, owner.user.id),
    webhookEndpointId: endpoint.createWebhookEndpoint.endpoint.id,
    userId: owner.user.id,
  };
  await eventsHandled(api);
});

afterAll(async () => {
  await api?.stop();
});

/** A valid value for a required string or id, by the name of its field (and of the operation, for `id`). */
function validText(operation: string, name: string): unknown {
  const byName: Record<string, unknown> = {
    email: operation === 'logIn' ? owner.user.email : uniqueEmail('hostile'),
    password: 'correct horse battery',
    refreshToken: owner.refreshToken,
    url: 'http://127.0.0.1:9/other-hook',
    organizationId: ids.organizationId,
    projectId: ids.projectId,
    taskId: ids.taskId,
    membershipId: ids.membershipId,
    assigneeId: ids.userId,
  };
  if (name in byName) return byName[name];
  if (name !== 'id') return 'Valid text';
  if (/organization/i.test(operation)) return ids.organizationId;
  if (/project/i.test(operation)) return ids.projectId;
  if (/webhook/i.test(operation)) return ids.webhookEndpointId;
  return /task/i.test(operation) ? ids.taskId : randomUUID();
}

/** A valid value of a type: required fields filled, optional ones left out. */
function validValue(operation: string, name: string, type: GraphQLInputType): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable))
    return name === 'eventTypes' ? ['task.deleted'] : [validValue(operation, name, nullable.ofType)];
  if (isEnumType(nullable)) return nullable.getValues()[0].value;
  if (isInputObjectType(nullable)) {
    const fields = Object.values(nullable.getFields()).filter(
      (field) => isNonNullType(field.type) && field.defaultValue === undefined,
    );
    return Object.fromEntries(fields.map((field) => [field.name, validValue(operation, field.name, field.type)]));
  }
  return { Int: 1, Boolean: false, DateTime: new Date().toISOString() }[nullable.name] ?? validText(operation, name);
}

/** Every place a String or an ID goes into an argument, by the path of its value. */
function stringPlaces(type: GraphQLInputType, path: (string | number)[]): { path: (string | number)[]; id: boolean }[] {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return stringPlaces(nullable.ofType, [...path, 0]);
  if (isInputObjectType(nullable))
    return Object.values(nullable.getFields()).flatMap((field) => stringPlaces(field.type, [...path, field.name]));
  return nullable.name === 'String' || nullable.name === 'ID' ? [{ path, id: nullable.name === 'ID' }] : [];
}

interface Case {
  label: string;
  document: string;
  variables: Record<string, unknown>;
  field: string;
}

/** One request per operation, argument, string place and hostile value, the rest of the input valid. */
function casesOf(
  kind: 'query' | 'mutation',
  field: GraphQLField<unknown, unknown>,
  hostile: string,
  literal: boolean,
): Case[] {
  const selection =
    isObjectType(getNullableType(field.type)) || isListType(getNullableType(field.type)) ? '{ __typename }' : '';
  return field.args.flatMap((target) =>
    stringPlaces(target.type, [target.name]).map(({ path: place, id }) => {
      const args = field.args.filter(
        (arg) => arg === target || (isNonNullType(arg.type) && arg.defaultValue === undefined),
      );
      const values: Record<string, unknown> = Object.fromEntries(
        args.map((arg) => [arg.name, validValue(field.name, arg.name, arg.type)]),
      );
      let container = values as Record<string | number, unknown>;
      for (const key of place.slice(0, -1))
        container = (container[key] ??= typeof key === 'number' ? [] : {}) as Record<string | number, unknown>;
      container[place.at(-1)!] = id ? `${randomUUID()}${hostile}` : hostile;
      // The field an error names, as class-validator does: relative to an input-object argument, else the argument.
      const inputObject = isInputObjectType(getNullableType(target.type));
      const expectedField = (inputObject ? place.slice(1) : place).join('.');
      const argList = args
        .map((arg) => `${arg.name}: ${literal ? print(astFromValue(values[arg.name], arg.type)!) : `$${arg.name}`}`)
        .join(', ');
      const definitions = literal ? '' : `(${args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ')})`;
      return {
        label: `${field.name}(${place.join('.')})`,
        document: `${kind} Hostile${definitions} { ${field.name}(${argList}) ${selection} }`,
        variables: literal ? {} : values,
        field: expectedField,
      };
    }),
  );
}

async function everyCase(hostile: string, literal: boolean): Promise<Case[]> {
  const schema = await buildApiSchema();
  const roots = [
    ['query', schema.getQueryType()!],
    ['mutation', schema.getMutationType()!],
  ] as const;
  return roots.flatMap(([kind, root]) =>
    Object.values(root.getFields()).flatMap((field) => casesOf(kind, field, hostile, literal)),
  );
}

/** A fingerprint of every row of every table, to prove a refused call changed nothing. */
async function databaseFingerprint(): Promise<string> {
  const tables = (await api.app.dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  )) as { table_name: string }[];
  const rows = await Promise.all(
    tables.map(({ table_name: table }) =>
      api.app.dataSource.query(
        `SELECT '${table}' AS t, count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${table}" x`,
      ),
    ),
  );
  return JSON.stringify(rows);
}

describe.each([
  ['a NUL character', 'variables', false],
  ['a lone surrogate', 'variables', false],
  ['a NUL character', 'literals', true],
] as const)('%s in any string argument or input field, sent as %s', (name, _how, literal) => {
  it('is BAD_USER_INPUT naming the field, writes nothing and logs nothing above warn', async () => {
    const cases = await everyCase(HOSTILE[name], literal);
    expect(cases.length).toBeGreaterThan(30);
    const before = await databaseFingerprint();
    const answers: { label: string; status: number; codes: (string | undefined)[]; fields: unknown }[] = [];
    const requestIds: string[] = [];
    for (const testCase of cases) {
      const response = await api.gql(testCase.document, testCase.variables, { token: owner.accessToken });
      requestIds.push(response.headers.get('x-request-id')!);
      const errors = response.body.errors ?? [];
      answers.push({
        label: testCase.label,
        status: response.status,
        codes: errors.map((error) => error.extensions.code),
        fields: errors.flatMap((error) =>
          (error.extensions.validationErrors ?? []).map((entry: { field: string }) => entry.field),
        ),
      });
    }
    expect(answers).toEqual(
      cases.map((testCase) => ({
        label: testCase.label,
        status: 400,
        codes: ['BAD_USER_INPUT'],
        fields: [testCase.field],
      })),
    );

    await eventsHandled(api);
    expect(await databaseFingerprint()).toBe(before);
    const ours = new Set(requestIds);
    const loud = api.logs.entries.filter(
      (entry) => ours.has(String(entry.requestId)) && !['debug', 'info', 'warn'].includes(String(entry.level)),
    );
    expect(loud).toEqual([]);
  });
});

describe('a hostile string deeper in the query', () => {
  it('is refused in a nested field argument too', async () => {
    const response = await api.gql(
      'query($id: ID!, $filter: TaskFilter) { project(id: $id) { tasks(filter: $filter) { totalCount } } }',
      {
        id: ids.projectId,
        filter: { search: HOSTILE['a NUL character'] },
      },
      { token: owner.accessToken },
    );
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'search' }],
    });
  });

  it('names the argument a variable feeds, whatever the variable is called', async () => {
    const response = await api.gql(
      'mutation($who: String!) { logIn(input: { email: $who, password: "correct horse battery" }) { accessToken } }',
      {
        who: 'x\u0000@example.com',
      },
    );
    expect(response.body.errors![0].extensions.validationErrors).toEqual([
      { field: 'email', messages: ['email must not contain the NUL character (U+0000)'] },
    ]);
  });

  it('answers a raw lone surrogate in the document itself with a parse error, not a 500', async () => {
    const response = await api.gql(
      `mutation { logIn(input: { email: "x\ud800@example.com", password: "p" }) { accessToken } }`,
    );
    expect(response.status).toBe(400);
    expect(response.body.errors![0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('emails with surrounding spaces and a capitalised domain', () => {
  it('are trimmed and lower-cased: sign up, then log in, typed either way', async () => {
    const email = uniqueEmail('Spaced');
    const typed = `  ${email.replace('@example.com', '@Example.COM')}  `;
    const created = await ok(
      api.gql('mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }', {
        input: { email: typed, password: 'correct horse battery', name: 'Spaced' },
      }),
    );
    expect(created.signUp.user.email).toBe(email.toLowerCase());
    const loggedIn = await ok(
      api.gql('mutation($input: LogInInput!) { logIn(input: $input) { user { email } } }', {
        input: { email: ` ${email.toUpperCase()}\t`, password: 'correct horse battery' },
      }),
    );
    expect(loggedIn.logIn.user.email).toBe(email.toLowerCase());
  });

  it('are trimmed in an invitation', async () => {
    const email = uniqueEmail('invited');
    const invited = await ok(
      api.gql(
        INVITE,
        {
          input: {
            organizationId: ids.organizationId,
            email: `  ${email.replace('example.com', 'EXAMPLE.com')} `,
            role: 'MEMBER',
          },
        },
        {
          token: owner.accessToken,
        },
      ),
    );
    expect(invited.inviteMember.email).toBe(email);
  });

  it('are still refused when they are not emails', async () => {
    const response = await api.gql('mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }', {
      input: { email: '  not an email  ', password: 'correct horse battery', name: 'Nope' },
    });
    expect(response.body.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      validationErrors: [{ field: 'email' }],
    });
  });
});
