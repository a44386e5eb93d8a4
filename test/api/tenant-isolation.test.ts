import 'reflect-metadata';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { getNamedType, isInputObjectType, type GraphQLArgument, type GraphQLInputType } from 'graphql';
import { buildApiSchema } from '../../src/app';
import type { IsolationCase, IsolationCases, TenantA } from '../support/isolation';
import { createOrganization, type Session } from '../support/organizations';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled } from '../support/wait';

/**
 * Every operation that reaches organization-owned data, called for a resource
 * of organization A by a member of organization B and by an anonymous client.
 * Each must refuse (NOT_FOUND, never leaking existence; FORBIDDEN where a
 * capability token is not the caller's) and change nothing in the database.
 * A module's rows live in test/api/isolation/<module>.cases.ts (see
 * test/support/isolation.ts), found here; the schema test below fails until
 * every operation that takes an ID is in one.
 */
const CASES_DIR = resolve(__dirname, 'isolation');

/** Every module's cases file, by file name (sorted, so seeds run in a stable order). */
const MODULES = readdirSync(CASES_DIR)
  .filter((file) => file.endsWith('.cases.ts'))
  .sort()
  .map((file) => {
    // A plain require: describe.each needs the cases while the file is collected, before any hook runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the line above
    const { isolation } = require(resolve(CASES_DIR, file)) as { isolation?: IsolationCases };
    if (!isolation)
      throw new Error(
        `test/api/isolation/${file} must export its cases as \`isolation\` (see test/support/isolation.ts)`,
      );
    return { file, ...isolation };
  });

type Case = IsolationCase<object> & { file: string };

const CASES: Case[] = MODULES.flatMap((module) => module.cases.map((testCase) => ({ ...testCase, file: module.file })));

/** Operations that take an ID but reach nothing organization-owned, each with the reason. */
const NOT_ORGANIZATION_SCOPED = Object.fromEntries(
  MODULES.flatMap((module) => Object.entries(module.notOrganizationScoped ?? {})),
);

let api: TestApp;
let tenantA: TenantA;
/** What each module's seed made in A, by cases file. */
const fixtures = new Map<string, object>();
let outsider: Session;

const variablesOf = (testCase: Case) => testCase.variables({ ...tenantA, ...fixtures.get(testCase.file) });

beforeAll(async () => {
  api = await startTestApp(Object.fromEntries(MODULES.flatMap((module) => Object.entries(module.env ?? {}))));
  const ownerA = await signUp(api);
  const organization = await createOrganization(api, ownerA, 'Tenant A');
  tenantA = { api, owner: ownerA, organizationId: organization.id };
  for (const module of MODULES) fixtures.set(module.file, (await module.seed?.(tenantA)) ?? {});
  for (const module of MODULES) await module.settle?.({ ...tenantA, ...fixtures.get(module.file) });

  outsider = await signUp(api);
  await createOrganization(api, outsider, 'Tenant B');
  // Every event handled, so the consumers write nothing while the tests compare fingerprints.
  await eventsHandled(api);
});

afterAll(async () => {
  await api?.stop();
});

/** A fingerprint of every row of every table, to prove a refused call changed nothing (but the relay's lease, renewed on the clock). */
async function databaseFingerprint(): Promise<Record<string, string>> {
  const tables = (await api.app.dataSource.query(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('migrations', 'event_relay_leases')
      ORDER BY table_name`,
  )) as { table_name: string }[];
  const fingerprint: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const [row] = (await api.app.dataSource.query(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM "${table}" t`,
    )) as { n: number; hash: string }[];
    fingerprint[table] = `${row.n}:${row.hash}`;
  }
  return fingerprint;
}

describe.each(CASES)('$operation on organization A', (testCase) => {
  it(`refuses a member of organization B with ${testCase.outsider} and changes nothing`, async () => {
    const before = await databaseFingerprint();
    const response = await api.gql(testCase.document, variablesOf(testCase), { token: outsider.accessToken });
    expect(response.body.errors?.map((error) => error.extensions.code)).toEqual([testCase.outsider]);
    expect(response.body.data?.[testCase.operation] ?? null).toBeNull();
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('refuses an anonymous client with UNAUTHENTICATED and changes nothing', async () => {
    const before = await databaseFingerprint();
    const response = await api.gql(testCase.document, variablesOf(testCase));
    expect(response.body.errors?.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(await databaseFingerprint()).toEqual(before);
  });
});

describe('the isolation table', () => {
  function takesAnId(type: GraphQLInputType, seen = new Set<string>()): boolean {
    const named = getNamedType(type);
    if (named.name === 'ID') return true;
    if (!isInputObjectType(named) || seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((field) => takesAnId(field.type, seen));
  }

  it('covers every query and mutation that takes an id', async () => {
    const schema = await buildApiSchema();
    const roots = [schema.getQueryType()!, schema.getMutationType()!];
    const takingIds = roots.flatMap((root) =>
      Object.values(root.getFields())
        .filter((field) => field.args.some((arg: GraphQLArgument) => takesAnId(arg.type)))
        .map((field) => field.name),
    );
    const covered = new Set([...CASES.map((testCase) => testCase.operation), ...Object.keys(NOT_ORGANIZATION_SCOPED)]);
    const missing = takingIds.filter((name) => !covered.has(name));
    if (missing.length > 0) {
      throw new Error(
        `Add these operations to the cases of their module in test/api/isolation/<module>.cases.ts (or to its notOrganizationScoped with a reason): ${missing.join(', ')}`,
      );
    }
  });

  it('lists only operations the schema has', async () => {
    const schema = await buildApiSchema();
    const names = new Set([
      ...Object.keys(schema.getQueryType()!.getFields()),
      ...Object.keys(schema.getMutationType()!.getFields()),
    ]);
    expect(CASES.map((testCase) => testCase.operation).filter((name) => !names.has(name))).toEqual([]);
    expect(Object.keys(NOT_ORGANIZATION_SCOPED).filter((name) => !names.has(name))).toEqual([]);
  });

  it('names each operation once, in one module', () => {
    const operations = [...CASES.map((testCase) => testCase.operation), ...Object.keys(NOT_ORGANIZATION_SCOPED)];
    expect(operations.filter((name, index) => operations.indexOf(name) !== index)).toEqual([]);
  });
});
