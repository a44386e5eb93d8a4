import type { Session } from './organizations';
import type { TestApp } from './test-app';

/** Organization A, as every module's isolation cases start from it: the app, A's owner, A's id. */
export interface TenantA {
  api: TestApp;
  owner: Session;
  organizationId: string;
}

/** One operation, called for a resource of organization A by a member of organization B and by an anonymous client. */
export interface IsolationCase<TFixture extends object> {
  operation: string;
  document: string;
  variables(a: TenantA & TFixture): Record<string, unknown>;
  /** What a member of another organization gets; anonymous clients always get UNAUTHENTICATED. */
  outsider: 'NOT_FOUND' | 'FORBIDDEN';
}

/**
 * A module's rows of test/api/tenant-isolation.test.ts, in
 * test/api/isolation/<module>.cases.ts as `export const isolation`: the suite
 * finds every such file, and its schema walk fails for an operation that takes
 * an ID and is in no file.
 */
export interface IsolationCases<TFixture extends object = object> {
  /** Settings the module's cases need from the app (merged into every module's). */
  env?: Record<string, string>;
  /** Creates, as A's owner, the records of A that the cases name; runs once before any case. Must not rely on another module's seed. */
  seed?(a: TenantA): Promise<TFixture>;
  /** Waits, once every module has seeded, until the module's background work is done, so nothing changes while cases compare the database. */
  settle?(a: TenantA & TFixture): Promise<void>;
  cases: IsolationCase<TFixture>[];
  /** Operations of the module that take an ID but reach nothing organization-owned, each with the reason. */
  notOrganizationScoped?: Record<string, string>;
}

/** Declares a module's isolation cases; the fixture type flows from `seed` to each case's `variables`. */
export function isolationCases<TFixture extends object = object>(
  cases: IsolationCases<TFixture>,
): IsolationCases<TFixture> {
  return cases;
}
