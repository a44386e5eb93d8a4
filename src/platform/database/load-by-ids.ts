import DataLoader from 'dataloader';
import type { EntityManager, EntityTarget } from 'typeorm';
import { LoaderKey } from '../graphql/context';
import { selectList } from './entity-columns';
import { pipelinedRead } from './prepared-statements';

/**
 * A read of rows by id as two prepared statements: `= $1::uuid` for one id,
 * `= ANY($1::uuid[])` for more. PostgreSQL runs a prepared statement with a
 * plan made for its parameters (a custom plan) for the first five runs, then
 * keeps a generic plan unless that one looks dearer. For `= ANY($1)` the
 * generic plan is costed for ten ids, so with one id it always looked dearer
 * and every run was planned afresh: 0.3 ms of the database's CPU, more than
 * running the read. The generic plan of `= $1` is the custom one, planned once
 * per connection.
 */
export interface ByIdsStatement {
  readonly one: string;
  readonly many: string;
}

/** `text` given how its rows are matched to the ids (`idsMatch('t.id')`), marked `pipelinedRead` in both forms. */
export function byIdsStatement(text: (idsMatch: (column: string) => string) => string): ByIdsStatement {
  return {
    one: pipelinedRead(text((column) => `${column} = $1::uuid`)),
    many: pipelinedRead(text((column) => `${column} = ANY($1::uuid[])`)),
  };
}

/** Runs `statement` for `ids` (then `rest` as $2, ...): the one-id form when there is one. */
export function queryByIds(
  manager: EntityManager,
  statement: ByIdsStatement,
  ids: readonly string[],
  ...rest: unknown[]
): Promise<unknown[]> {
  return ids.length === 1
    ? manager.query(statement.one, [ids[0], ...rest])
    : manager.query(statement.many, [ids, ...rest]);
}

const statements = new WeakMap<object, Map<string, ByIdsStatement>>();

/**
 * `SELECT <every column but omit> FROM <table> r WHERE r.id = ANY($1::uuid[])` (and its one-id form), built once per
 * entity and omit list; prepared statements, pipelined outside transactions.
 */
function byIdsSql(manager: EntityManager, entity: EntityTarget<object>, omit: readonly string[]): ByIdsStatement {
  const metadata = manager.dataSource.getMetadata(entity);
  let byOmit = statements.get(metadata);
  if (!byOmit) statements.set(metadata, (byOmit = new Map<string, ByIdsStatement>()));
  const key = omit.join(',');
  let statement = byOmit.get(key);
  if (!statement) {
    const columns = selectList(manager, entity, 'r', omit);
    statement = byIdsStatement(
      (idsMatch) => `SELECT ${columns} FROM ${metadata.tableName} r WHERE ${idsMatch('r.id')}`,
    );
    byOmit.set(key, statement);
  }
  return statement;
}

/**
 * The batch function of a by-id DataLoader: one query for all ids, answers in
 * the order asked, undefined where absent. Raw SQL with the entity's column
 * list: the rows are plain objects with the entity's properties (TypeORM's
 * find builds and hydrates through its query builder, a fifth of a small
 * request's CPU when measured).
 */
export async function loadByIds<T extends { id: string }, K extends keyof T = never>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  ids: readonly string[],
  /** Properties not to read (a column only one path needs, such as a password hash). */
  omit: readonly K[] = [],
): Promise<(Omit<T, K> | undefined)[]> {
  const statement = byIdsSql(manager, entity as EntityTarget<object>, omit as readonly string[]);
  const rows = (await queryByIds(manager, statement, ids)) as T[];
  return inIdOrder(ids, rows);
}

/** `rows` (each with an id) in the order of `ids`, undefined where absent: what a DataLoader's batch function answers. */
export function inIdOrder<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): (T | undefined)[] {
  if (ids.length === 1) return [rows[0]?.id === ids[0] ? rows[0] : undefined];
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

/** What ByIdLoader.peek answers for an id this request has not loaded (yet). */
export const NOT_LOADED = Symbol('not loaded');

/**
 * A by-id DataLoader that also answers synchronously for an id it has
 * already loaded: a field whose rows were fetched ahead (the assignees of a
 * page of tasks) resolves to a value, not a promise, and graphql-js then
 * completes its object without a promise of its own.
 */
export class ByIdLoader<T> extends DataLoader<string, T | undefined> {
  private readonly loaded: Map<string, T | undefined>;

  constructor(load: (ids: readonly string[]) => Promise<(T | undefined)[]>) {
    const loaded = new Map<string, T | undefined>();
    super(async (ids) => {
      const values = await load(ids);
      ids.forEach((id, index) => loaded.set(id, values[index]));
      return values;
    });
    this.loaded = loaded;
  }

  /** The record (undefined: there is none) if this request loaded it, else NOT_LOADED. */
  peek(id: string): T | undefined | typeof NOT_LOADED {
    return this.loaded.has(id) ? this.loaded.get(id) : NOT_LOADED;
  }

  override clear(id: string): this {
    this.loaded.delete(id);
    return super.clear(id);
  }

  override clearAll(): this {
    this.loaded.clear();
    return super.clearAll();
  }

  override prime(id: string, value: T | undefined | PromiseLike<T | undefined> | Error): this {
    if (!this.loaded.has(id) && !(value instanceof Error) && !isPromiseLike(value)) this.loaded.set(id, value);
    return super.prime(id, value);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** A per-request by-id loader: every id asked for in one tick is one statement. */
export function byIdLoader<T>(
  name: string,
  load: (ids: readonly string[]) => Promise<(T | undefined)[]>,
): LoaderKey<ByIdLoader<T>> {
  return new LoaderKey(name, () => new ByIdLoader(load));
}

/** A per-request loader of each key's rows (a task's labels, say): every key asked for in one tick is one statement. */
export function groupedLoader<T>(
  name: string,
  load: (keys: readonly string[]) => Promise<Map<string, T[]>>,
): LoaderKey<DataLoader<string, T[]>> {
  return new LoaderKey(
    name,
    () =>
      new DataLoader(async (keys: readonly string[]) => {
        const groups = await load(keys);
        return keys.map((key) => groups.get(key) ?? []);
      }),
  );
}
