import type { ModuleNames } from './names';

/** The module's API test: CRUD over HTTP on a real database, validation, pagination, and its events in the audit log. */
export function apiTestFile(n: ModuleNames): string {
  return `import { randomUUID } from 'node:crypto';
import { addMember, createOrganization, ok, type Session } from '../support/organizations';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

// Written by \`npm run gen:module -- ${n.module}\`; grow it with the module.
const FIELDS = 'id name description organization { id } createdAt updatedAt';
const CREATE = \`mutation($input: Create${n.Name}Input!) { create${n.Name}(input: $input) { \${FIELDS} } }\`;
const UPDATE = \`mutation($input: Update${n.Name}Input!) { update${n.Name}(input: $input) { \${FIELDS} } }\`;
const DELETE = 'mutation($id: ID!) { delete${n.Name}(id: $id) }';
const GET = \`query($id: ID!) { ${n.name}(id: $id) { \${FIELDS} } }\`;
const LIST = \`query($org: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  ${n.names}(organizationId: $org, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { id } } } }\`;
const AUDIT = \`query($org: ID!, $subjectId: ID!) {
  auditEvents(organizationId: $org, filter: { subjectId: $subjectId }) { edges { node { type summary data actor { id } } } } }\`;

interface Node {
  id: string;
  name: string;
  description: string | null;
  organization: { id: string };
  createdAt: string;
  updatedAt: string;
}

interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  edges: { node: { id: string } }[];
}

type Reply = { body: { errors?: { extensions: Record<string, unknown> }[] } };
const codeOf = (response: Reply) => response.body.errors?.[0]?.extensions.code;
const fieldsOf = (response: Reply) =>
  ((response.body.errors?.[0]?.extensions.validationErrors ?? []) as { field: string }[]).map((error) => error.field).sort();

let api: TestApp;
let owner: Session;
let member: Session;
let organizationId: string;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, '${n.Names} Co')).id;
  member = await addMember(api, owner, organizationId, 'MEMBER');
});

afterAll(async () => {
  await api?.stop();
});

async function create(session: Session, input: Record<string, unknown> = {}, org = organizationId): Promise<Node> {
  const data = await ok<{ create${n.Name}: Node }>(api.gql(CREATE, { input: { organizationId: org, name: 'A ${n.words}', ...input } }, { token: session.accessToken }));
  return data.create${n.Name};
}

async function list(variables: Record<string, unknown>): Promise<Page> {
  return (await ok<{ ${n.names}: Page }>(api.gql(LIST, variables, { token: owner.accessToken }))).${n.names};
}

describe('${n.module}', () => {
  it('lets any member create one, trimmed, in their organization, and read it back', async () => {
    const created = await create(member, { name: '  First  ', description: '  Said twice  ' });
    expect(created).toMatchObject({ name: 'First', description: 'Said twice', organization: { id: organizationId } });
    const read = await ok<{ ${n.name}: Node }>(api.gql(GET, { id: created.id }, { token: owner.accessToken }));
    expect(read.${n.name}).toEqual(created);
  });

  it('updates the fields given, leaves the others, and clears the description with null', async () => {
    const created = await create(member, { name: 'Before', description: 'Kept' });
    const renamed = await ok<{ update${n.Name}: Node }>(api.gql(UPDATE, { input: { id: created.id, name: 'After' } }, { token: member.accessToken }));
    expect(renamed.update${n.Name}).toMatchObject({ name: 'After', description: 'Kept' });
    const cleared = await ok<{ update${n.Name}: Node }>(api.gql(UPDATE, { input: { id: created.id, description: null } }, { token: owner.accessToken }));
    expect(cleared.update${n.Name}).toMatchObject({ name: 'After', description: null });
  });

  it('deletes one, after which it is NOT_FOUND, and answers an unknown id with NOT_FOUND', async () => {
    const created = await create(member);
    expect((await ok<{ delete${n.Name}: boolean }>(api.gql(DELETE, { id: created.id }, { token: member.accessToken }))).delete${n.Name}).toBe(true);
    expect(codeOf(await api.gql(GET, { id: created.id }, { token: member.accessToken }))).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(DELETE, { id: created.id }, { token: member.accessToken }))).toBe('NOT_FOUND');
    expect(codeOf(await api.gql(GET, { id: randomUUID() }, { token: member.accessToken }))).toBe('NOT_FOUND');
  });

  it('refuses invalid input with BAD_USER_INPUT naming the field', async () => {
    const { id } = await create(member);
    const token = member.accessToken;
    const replies = await Promise.all([
      api.gql(CREATE, { input: { organizationId, name: '   ' } }, { token }),
      api.gql(CREATE, { input: { organizationId, name: 'x'.repeat(101) } }, { token }),
      api.gql(CREATE, { input: { organizationId, name: 'Fine', description: 'x'.repeat(10_001) } }, { token }),
      api.gql(CREATE, { input: { organizationId: 'nope', name: 'Fine' } }, { token }),
      api.gql(UPDATE, { input: { id, name: '' } }, { token }),
      api.gql(GET, { id: 'nope' }, { token }),
    ]);
    expect(replies.map(codeOf)).toEqual(Array(replies.length).fill('BAD_USER_INPUT'));
    expect(replies.map(fieldsOf)).toEqual([['name'], ['name'], ['description'], ['organizationId'], ['name'], ['id']]);
  });

  it('lists newest first in pages with a total, forwards and backwards', async () => {
    const org = (await createOrganization(api, owner, 'Paged')).id;
    const ids: string[] = [];
    for (const name of ['One', 'Two', 'Three', 'Four', 'Five']) ids.push((await create(owner, { name }, org)).id);
    const newestFirst = [...ids].reverse();

    const first = await list({ org, first: 2 });
    const second = await list({ org, first: 2, after: first.pageInfo.endCursor });
    const third = await list({ org, first: 2, after: second.pageInfo.endCursor });
    expect([first, second, third].map((page) => page.edges.map((edge) => edge.node.id))).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
    expect([first.totalCount, first.pageInfo.hasNextPage, third.pageInfo.hasNextPage]).toEqual([5, true, false]);

    const oldest = await list({ org, last: 2 });
    expect(oldest.edges.map((edge) => edge.node.id)).toEqual(newestFirst.slice(3));
    expect(oldest.pageInfo.hasPreviousPage).toBe(true);
    expect(codeOf(await api.gql(LIST, { org, first: 0 }, { token: owner.accessToken }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await api.gql(LIST, { org, after: 'garbage' }, { token: owner.accessToken }))).toBe('BAD_USER_INPUT');
  });

  it('puts ${n.snake}.created, .updated and .deleted in the audit log, each with its line and its actor', async () => {
    const created = await create(owner, { name: 'Audited' });
    await ok(api.gql(UPDATE, { input: { id: created.id, name: 'Renamed' } }, { token: member.accessToken }));
    await ok(api.gql(DELETE, { id: created.id }, { token: owner.accessToken }));
    await eventsHandled(api);

    const audit = await ok<{ auditEvents: { edges: { node: { type: string; summary: string; data: unknown; actor: { id: string } } }[] } }>(
      api.gql(AUDIT, { org: organizationId, subjectId: created.id }, { token: owner.accessToken }),
    );
    const byType = Object.fromEntries(audit.auditEvents.edges.map(({ node }) => [node.type, node]));
    expect(Object.keys(byType).sort()).toEqual(['${n.snake}.created', '${n.snake}.deleted', '${n.snake}.updated']);
    expect(byType['${n.snake}.created']).toMatchObject({ summary: 'created the ${n.words} "Audited"', data: { name: 'Audited', description: null }, actor: { id: owner.user.id } });
    expect(byType['${n.snake}.updated']).toMatchObject({ summary: 'changed name of a ${n.words}', data: { changes: { name: { from: 'Audited', to: 'Renamed' } } }, actor: { id: member.user.id } });
    expect(byType['${n.snake}.deleted']).toMatchObject({ summary: 'deleted the ${n.words} "Renamed"', data: { name: 'Renamed' } });
  });
});
`;
}

/** The module's rows of the tenant-isolation suite: one per operation that takes an ID. */
export function isolationCasesFile(n: ModuleNames): string {
  const idKey = `${n.name}Id`;
  return `import { isolationCases } from '../../support/isolation';
import { ok } from '../../support/organizations';

/** The ${n.module} module's rows of the tenant-isolation suite (written by gen:module): a ${n.words} of A. */
export const isolation = isolationCases({
  async seed({ api, owner, organizationId }) {
    const data = await ok<{ create${n.Name}: { id: string } }>(
      api.gql('mutation($input: Create${n.Name}Input!) { create${n.Name}(input: $input) { id } }', { input: { organizationId, name: 'A' } }, {
        token: owner.accessToken,
      }),
    );
    return { ${idKey}: data.create${n.Name}.id };
  },
  cases: [
    {
      operation: '${n.name}',
      document: 'query($id: ID!) { ${n.name}(id: $id) { id } }',
      variables: (a) => ({ id: a.${idKey} }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: '${n.names}',
      document: 'query($id: ID!) { ${n.names}(organizationId: $id) { totalCount } }',
      variables: (a) => ({ id: a.organizationId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'create${n.Name}',
      document: 'mutation($input: Create${n.Name}Input!) { create${n.Name}(input: $input) { id } }',
      variables: (a) => ({ input: { organizationId: a.organizationId, name: 'Intruder' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'update${n.Name}',
      document: 'mutation($input: Update${n.Name}Input!) { update${n.Name}(input: $input) { id } }',
      variables: (a) => ({ input: { id: a.${idKey}, name: 'Renamed' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'delete${n.Name}',
      document: 'mutation($id: ID!) { delete${n.Name}(id: $id) }',
      variables: (a) => ({ id: a.${idKey} }),
      outsider: 'NOT_FOUND',
    },
  ],
});
`;
}
