/**
 * Named prepared statements for the hot, fixed statements of the request path
 * (by-id loads, the task read with its membership check, a comment's insert,
 * the outbox row). A repository marks such a text with `prepared(sql)`; with
 * DATABASE_PREPARED_STATEMENTS=true every pool client runs a marked text as a
 * named statement: PostgreSQL parses and plans it once per connection instead
 * of once per execution, and the driver sends Bind/Execute without the text.
 *
 * Names are per client (`gw<client>_<statement>`): embedded PGlite serves all
 * its socket connections from one session, so a replacement connection must
 * not meet the names of the one it replaced. Only texts that do not vary
 * with the input belong here (no IN lists built per call): past
 * MAX_STATEMENTS marked texts, further ones run unnamed.
 */
import { Query, Result, type FieldDef, type QueryResult } from 'pg';

const MAX_STATEMENTS = 200;
const indexes = new Map<string, number>();

/** Marks `sql` as one of the hot statements (it returns the text unchanged). */
export function prepared(sql: string): string {
  if (!indexes.has(sql) && indexes.size < MAX_STATEMENTS) indexes.set(sql, indexes.size);
  return sql;
}

const pipelinedReads = new Set<string>();
const ONE_READ = /^SELECT\b/i;
const LOCKS_OR_SESSION_STATE =
  /\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|pg_(try_)?advisory|set_config|nextval|;/i;

/**
 * Marks `sql` as a hot statement (see `prepared`) that only reads: outside a
 * transaction it may run on the shared, pipelined connections
 * (`pipelined-reads.ts`). One SELECT, taking no row lock and leaving nothing
 * in the session (no advisory lock, no setting); refused at once otherwise.
 */
export function pipelinedRead(sql: string): string {
  if (pipelinedReads.has(sql)) return sql;
  if (!ONE_READ.test(sql) || LOCKS_OR_SESSION_STATE.test(sql))
    throw new Error(`pipelinedRead() takes one SELECT without locks or session state: ${sql.slice(0, 80)}`);
  prepared(sql);
  if (pipelinedReads.size < MAX_STATEMENTS) pipelinedReads.add(sql);
  return sql;
}

/** Whether `sql` was marked by `pipelinedRead`. */
export function isPipelinedRead(sql: string): boolean {
  return pipelinedReads.has(sql);
}

/** The slice of pg's Client the switch touches. */
export interface PgClientLike {
  query(...args: unknown[]): unknown;
}

/** What pg's Query holds beside its declared fields: read when it runs, set before. */
type NamedQuery = Query & {
  name?: string;
  callback?: (error: Error | undefined, result: QueryResult) => void;
  _result: ResultInternals;
};

let clients = 0;
const switched = new WeakSet<PgClientLike>();

/** pg's Result as addFields leaves it: the fields, a parser per field, and the empty row each row is copied from. */
interface ResultInternals {
  fields: FieldDef[];
  _parsers: unknown[] | undefined;
  _prebuiltEmptyResultObject: object | null;
  addFields(fields: FieldDef[]): void;
  /** Which marked statement the result is of (set here). */
  statement: number;
}

/** pg's own addFields (declared by no typing). */
const pgAddFields = (Result.prototype as unknown as ResultInternals).addFields;

/** Per marked statement: what pg's addFields made of its row description the last time. */
const fieldSetups: ({ fields: FieldDef[]; parsers: unknown[] | undefined; emptyRow: object | null } | undefined)[] = [];

function sameFields(left: FieldDef[], right: FieldDef[]): boolean {
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i += 1) {
    const a = left[i];
    const b = right[i];
    if (a.name !== b.name || a.dataTypeID !== b.dataTypeID || a.format !== b.format) return false;
  }
  return true;
}

/**
 * pg's addFields for a marked statement: its row description is the same every time (pg asks for it with every
 * execution), so the parsers and the empty row pg builds from it are built once and shared, read-only, by every
 * result of the statement; a description that differs (the schema changed) is set up afresh. pg built both per
 * query: an object with a property per column, copied, and a parser lookup per column (3.4% of a by-id read's
 * busy time, 4% of its allocations). Only for pg's own type parsers (TypeORM passes no per-query `types`).
 */
function addFieldsOnce(this: ResultInternals, fields: FieldDef[]): void {
  const setup = fieldSetups[this.statement];
  if (setup && sameFields(setup.fields, fields)) {
    this.fields = fields;
    this._parsers = setup.parsers;
    this._prebuiltEmptyResultObject = setup.emptyRow;
    return;
  }
  pgAddFields.call(this, fields);
  fieldSetups[this.statement] = { fields, parsers: this._parsers, emptyRow: this._prebuiltEmptyResultObject };
}

/** Makes `client` run marked texts with values as named statements; idempotent. */
export function usePreparedStatements(client: PgClientLike): void {
  if (switched.has(client)) return;
  switched.add(client);
  clients += 1;
  const prefix = `gw${clients.toString(36)}_`;
  const names: string[] = [];
  const query = client.query;
  client.query = function (this: PgClientLike, ...args: unknown[]) {
    const [text, values, callback] = args;
    if (typeof text === 'string' && Array.isArray(values) && args.length <= 3) {
      const index = indexes.get(text);
      if (index !== undefined) {
        // A Query of the text, then named: handed a config object instead, pg copies it property descriptor by
        // property descriptor on every query (cloneQueryConfig, 1.4% of a by-id read's busy time).
        const named = new Query(text, values as unknown[]) as NamedQuery;
        named.name = names[index] ??= `${prefix}${index}`;
        const result = named._result;
        result.statement = index;
        result.addFields = addFieldsOnce;
        if (typeof callback === 'function') {
          named.callback = callback as NamedQuery['callback'];
          return query.call(this, named);
        }
        return new Promise<QueryResult>((resolve, reject) => {
          named.callback = (error, result) => (error ? reject(error) : resolve(result));
          query.call(this, named);
        }).catch((error: Error) => {
          // As pg does: captured in a promise reaction, the stack leads back to the caller, not to the socket's read.
          Error.captureStackTrace(error);
          throw error;
        });
      }
    }
    return query.apply(this, args);
  };
}
