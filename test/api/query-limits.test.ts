import { Lexer, Source, TokenKind } from 'graphql';
import { createOrganization, type Session } from '../support/organizations';
import { createProject } from '../support/projects';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

/*
 * Every limit at its default, at N (answered) and N + 1 (QUERY_TOO_COMPLEX
 * naming the limit and its value, before any resolver: no SQL ran).
 */
let api: TestApp;
let owner: Session;
let organizationId: string;
let requestCounter = 0;

beforeAll(async () => {
  api = await startTestApp();
  owner = await signUp(api);
  organizationId = (await createOrganization(api, owner, 'Limited')).id;
  await createProject(api, owner, organizationId);
});

afterAll(async () => {
  await api?.stop();
});

function tokenCount(document: string): number {
  const lexer = new Lexer(new Source(document));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count += 1;
  return count;
}

async function send(query: string, variables: Record<string, unknown> = {}) {
  const requestId = `limits-${(requestCounter += 1)}`;
  const response = await api.gql(query, variables, {
    token: owner.accessToken,
    headers: { 'x-request-id': requestId },
  });
  const sql = api.logs.find('sql').filter((entry) => entry.requestId === requestId);
  return { ...response, sql };
}

async function expectRefused(query: string, limit: string, max: number, variables: Record<string, unknown> = {}) {
  const response = await send(query, variables);
  expect(response.status).toBe(400);
  expect(response.body.errors).toEqual([
    expect.objectContaining({
      message: expect.stringContaining(`${limit} limit of ${max}`),
      extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit, max }),
    }),
  ]);
  expect(response.body.data).toBeUndefined();
  expect(response.sql).toEqual([]);
  return response;
}

async function expectAnswered(query: string, variables: Record<string, unknown> = {}) {
  const response = await send(query, variables);
  expect(response.body.errors?.filter((error) => error.extensions.code === 'QUERY_TOO_COMPLEX') ?? []).toEqual([]);
  expect(response.status).toBe(200);
  return response;
}

/** A query whose deepest leaf is at depth `depth` (the leaf counts), walking me → memberships → organization → members → edges → node → organization → ... */
function queryOfDepth(depth: number): string {
  const cycle = ['organization', 'members(first: 1)', 'edges', 'node'];
  const leafOf: Record<string, string> = {
    me: 'id',
    memberships: 'id',
    organization: 'id',
    'members(first: 1)': 'totalCount',
    edges: 'cursor',
    node: 'id',
  };
  const path = ['me', 'memberships'];
  while (path.length < depth - 1) path.push(cycle[(path.length - 2) % cycle.length]);
  const fields = path.slice(0, depth - 1);
  return `{ ${fields.map((field) => `${field} {`).join(' ')} ${leafOf[fields.at(-1)!]} ${'}'.repeat(fields.length)} }`;
}

describe('query limits', () => {
  it('depth: 15 is answered, 16 is refused', async () => {
    await expectAnswered(queryOfDepth(15));
    await expectRefused(queryOfDepth(16), 'depth', 15);
  });

  it('aliases: 15 are answered, 16 refused; __typename is free, and aliases inside fragments count', async () => {
    const aliases = (count: number) => Array.from({ length: count }, (_, index) => `a${index}: me { id }`).join(' ');
    await expectAnswered(`{ ${aliases(15)} }`);
    await expectRefused(`{ ${aliases(16)} }`, 'aliases', 15);
    await expectAnswered(
      `{ ${aliases(15)} ${Array.from({ length: 20 }, (_, index) => `t${index}: __typename`).join(' ')} }`,
    );
    await expectRefused(
      `query { ...Viewer ${aliases(8)} } fragment Viewer on Query { ${Array.from({ length: 8 }, (_, index) => `f${index}: me { id }`).join(' ')} }`,
      'aliases',
      15,
    );
  });

  it('directives: 50 are answered, 51 refused', async () => {
    const withDirectives = (count: number) => `{ me { ${'id @include(if: true) '.repeat(count)}} }`;
    await expectAnswered(withDirectives(50));
    await expectRefused(withDirectives(51), 'directives', 50);
  });

  it('tokens: a document of 2,000 tokens is answered, 2,001 refused', async () => {
    // Padded with values of a list argument (one token each); graphql-js's own lexer counts, as the server's parser does.
    const padded = (values: number) =>
      `query($id: ID!) { projects(organizationId: $id, first: 1) { edges { node { tasks(filter: { status: [${'TODO '.repeat(values)}] }) { totalCount } } } } }`;
    const ofTokens = (tokens: number) => padded(tokens - tokenCount(padded(0)));
    expect(tokenCount(ofTokens(2000))).toBe(2000);
    await expectAnswered(ofTokens(2000), { id: organizationId });
    await expectRefused(ofTokens(2001), 'tokens', 2000, { id: organizationId });
  });

  it('cost: connections multiply by first; 50,000 is answered, 50,001 refused; every response reports its cost', async () => {
    const nested = (padding: number) =>
      `query($id: ID!) { projects(organizationId: $id, first: 100) { edges { node { tasks(first: 70) { edges { node { id title status priority version } } } } } } ${'__typename '.repeat(padding)}}`;
    const base = await expectAnswered(nested(0), { id: organizationId });
    // 1 + 100 × (edges 1 + node 1 + tasks (1 + 70 × (edges 1 + node 1 + 5 fields)))
    expect(base.body.extensions).toEqual({ cost: { requested: 49301, limit: 50000 } });
    const atLimit = await expectAnswered(nested(50000 - 49301), { id: organizationId });
    expect(atLimit.body.extensions).toEqual({ cost: { requested: 50000, limit: 50000 } });
    const over = await expectRefused(nested(50001 - 49301), 'cost', 50000, { id: organizationId });
    expect(over.body.errors![0].extensions).toMatchObject({ found: 50001 });
    expect(over.body.extensions).toEqual({ cost: { requested: 50001, limit: 50000 } });

    const deep = `query($id: ID!) { projects(organizationId: $id, first: 100) { edges { node { tasks(first: 100) { edges { node { comments(first: 100) { totalCount } } } } } } } }`;
    expect(
      (await expectRefused(deep, 'cost', 50000, { id: organizationId })).body.errors![0].extensions.found,
    ).toBeGreaterThan(1_000_000);
    // The cost follows the variables, not just the document.
    const byVariable = `query($id: ID!, $first: Int!) { projects(organizationId: $id, first: $first) { edges { node { tasks(first: 100) { totalCount } } } } }`;
    expect((await expectAnswered(byVariable, { id: organizationId, first: 1 })).body.extensions).toEqual({
      cost: { requested: 1 + 1 * (1 + 1 + 1 + 100), limit: 50000 },
    });
  });

  it('cost: remembered per document, it still follows every variable that can change it', async () => {
    // Costs are kept per document and the values of its Int and Boolean variables; an id or a filter does not change them.
    const shaped = `query($id: ID!, $first: Int = 50, $counted: Boolean!) { projects(organizationId: $id, first: $first) { edges { node { id tasks(first: 10) @include(if: $counted) { totalCount } } } } }`;
    const cost = async (variables: Record<string, unknown>) =>
      (
        (await expectAnswered(shaped, { id: organizationId, ...variables })).body.extensions as {
          cost: { requested: number };
        }
      ).cost.requested;
    expect(await cost({ first: 2, counted: true })).toBe(1 + 2 * (1 + 1 + 1 + 1 + 10));
    expect(await cost({ first: 3, counted: true })).toBe(1 + 3 * (1 + 1 + 1 + 1 + 10));
    expect(await cost({ first: 3, counted: false })).toBe(1 + 3 * (1 + 1 + 1));
    // null asks for the default page (20); left out, the variable takes the operation's default (50).
    expect(await cost({ first: null, counted: false })).toBe(1 + 20 * 3);
    expect(await cost({ counted: false })).toBe(1 + 50 * 3);
    expect(await cost({ first: 2, counted: true })).toBe(1 + 2 * (1 + 1 + 1 + 1 + 10));
  });

  it('take their values from the environment', async () => {
    const strict = await startTestApp({
      GRAPHQL_MAX_DEPTH: '3',
      GRAPHQL_MAX_ALIASES: '1',
      GRAPHQL_MAX_DIRECTIVES: '1',
      GRAPHQL_MAX_TOKENS: '20',
      GRAPHQL_MAX_COST: '5',
    });
    try {
      const codes = async (query: string) =>
        (await strict.gql(query)).body.errors?.map((error) => [error.extensions.code, error.extensions.limit]);
      expect(await codes(queryOfDepth(4))).toEqual([['QUERY_TOO_COMPLEX', 'depth']]);
      expect(await codes('{ a: me { id } b: me { id } }')).toEqual([['QUERY_TOO_COMPLEX', 'aliases']]);
      expect(await codes('{ me @include(if: true) { id @include(if: true) } }')).toEqual([
        ['QUERY_TOO_COMPLEX', 'directives'],
      ]);
      expect(await codes(`{ ${'__typename '.repeat(19)}}`)).toEqual([['QUERY_TOO_COMPLEX', 'tokens']]);
      // 20 tokens parse; its cost (18) is then over 5.
      expect(await codes(`{ ${'__typename '.repeat(18)}}`)).toEqual([['QUERY_TOO_COMPLEX', 'cost']]);
      expect(await codes('{ me { id name createdAt email } __typename }')).toEqual([['QUERY_TOO_COMPLEX', 'cost']]);
    } finally {
      await strict.stop();
    }
  });
});

describe('request shape limits', () => {
  it('refuses a batched JSON array of operations with 400 and the request id', async () => {
    const response = await fetch(`${api.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0]).toMatchObject({
      message: expect.stringMatching(/batching/i),
      extensions: { requestId: response.headers.get('x-request-id') },
    });
  });

  it('answers a body above HTTP_BODY_LIMIT_BYTES (1 MiB) with 413 and the request id', async () => {
    const post = (bytes: number) =>
      fetch(`${api.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes) } }),
      });
    const tooLarge = await post(1024 * 1024);
    expect(tooLarge.status).toBe(413);
    const body = (await tooLarge.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0].extensions).toMatchObject({ requestId: tooLarge.headers.get('x-request-id') });
    expect((await post(1024 * 1024 - 100)).status).toBe(200);
  });
});
