import type { EntityManager, EntityTarget } from 'typeorm';
import {
  connectionsByParent,
  type Connection,
  type CursorKind,
  type CursorValue,
  type PageRequest,
} from '../pagination';
import { selectList } from './entity-columns';
import { pipelinedRead } from './prepared-statements';
import { SqlParameters } from './sql';

/** The column a list sorts by; the row id breaks ties in the same direction. */
export interface KeysetOrder {
  /** A column of the list's table: `due_date`. */
  column: string;
  kind: CursorKind;
  descending: boolean;
  /** NULLs sort last ascending and first descending, as PostgreSQL's default does. */
  nullable?: boolean;
}

/**
 * A list of an entity's rows that belong to a parent (a project's tasks, an
 * organization's audit events), paged by keyset on `order` then id. One
 * statement answers a page for any number of parents: a LATERAL join per
 * parent, backed by an index on (parent column, order column, id).
 */
export interface KeysetList {
  entity: EntityTarget<object>;
  /** The alias the `where` conditions use: `t`. */
  alias: string;
  /** The column holding the parent's id: `project_id`. */
  parent: string;
  order: KeysetOrder;
  /** Properties the list leaves out of its rows. */
  omit?: readonly string[];
}

const CASTS: Record<CursorKind, string> = {
  timestamp: '::timestamptz',
  uuid: '::uuid',
  int: '::int',
  string: '::text',
};

/** A row of the batched statement: its parent, the parent's total, its sort key, and the row (id null when the page is empty). */
type PageRow<T> = T & { parentId: string; total: number; sortKey: CursorValue; id: string | null };

/** Timestamps travel in PostgreSQL's text form, so microseconds survive the trip through a cursor. */
function sortKeySql(order: KeysetOrder): string {
  return order.kind === 'timestamp' ? `${order.column}::text` : order.column;
}

/** The order with its column qualified by the list's alias, and turned round for a backward page. */
function qualified(list: KeysetList, backward: boolean): KeysetOrder {
  return {
    ...list.order,
    column: `${list.alias}.${list.order.column}`,
    descending: backward ? !list.order.descending : list.order.descending,
  };
}

function orderBySql(order: KeysetOrder, id: string): string {
  const direction = order.descending ? 'DESC' : 'ASC';
  const nulls = order.nullable ? (order.descending ? ' NULLS FIRST' : ' NULLS LAST') : '';
  return `${order.column} ${direction}${nulls}, ${id} ${direction}`;
}

/** Rows strictly past the cursor in this order (NULLs last ascending, first descending). */
function pastCursorSql(order: KeysetOrder, id: string, cursor: CursorValue[], params: SqlParameters): string {
  const [key, cursorId] = cursor;
  const op = order.descending ? '<' : '>';
  const idParam = params.add(cursorId, '::uuid');
  if (!order.nullable) return `(${order.column}, ${id}) ${op} (${params.add(key, CASTS[order.kind])}, ${idParam})`;
  if (key === null) {
    return order.descending
      ? `((${order.column} IS NULL AND ${id} < ${idParam}) OR ${order.column} IS NOT NULL)`
      : `(${order.column} IS NULL AND ${id} > ${idParam})`;
  }
  const keyParam = params.add(key, CASTS[order.kind]);
  const past = `(${order.column} ${op} ${keyParam} OR (${order.column} = ${keyParam} AND ${id} ${op} ${idParam}))`;
  return order.descending ? past : `(${past} OR ${order.column} IS NULL)`;
}

/**
 * One page per parent, in the order of `parentIds`, with each parent's total
 * under the same filter (unless the page says `total: false`: totalCount was
 * not asked for, so nothing is counted). `where` adds conditions on the list's
 * alias, with its values bound through `params`. A backward page
 * (`last`/`before`) reads the reversed order from the cursor and is turned
 * round in toConnection.
 */
export async function loadKeysetPages<T extends { id: string }>(
  manager: EntityManager,
  list: KeysetList,
  parentIds: readonly string[],
  page: PageRequest,
  where: (params: SqlParameters) => string[] = () => [],
): Promise<Connection<T>[]> {
  return (await loadPages<T>(manager, list, parentIds, page, where)).map((connection) => connection!);
}

/**
 * As loadKeysetPages, for the parents `parents` admits (a condition on
 * `parent_.id`: the viewer's membership of an organization, say, checked in
 * the same statement as the page): undefined for a parent it leaves out.
 */
export function loadKeysetPagesOf<T extends { id: string }>(
  manager: EntityManager,
  list: KeysetList,
  parentIds: readonly string[],
  page: PageRequest,
  where: (params: SqlParameters) => string[],
  parents: (parentId: string, params: SqlParameters) => string,
): Promise<(Connection<T> | undefined)[]> {
  return loadPages<T>(manager, list, parentIds, page, where, parents);
}

async function loadPages<T extends { id: string }>(
  manager: EntityManager,
  list: KeysetList,
  parentIds: readonly string[],
  page: PageRequest,
  where: (params: SqlParameters) => string[],
  parents?: (parentId: string, params: SqlParameters) => string,
): Promise<(Connection<T> | undefined)[]> {
  const params = new SqlParameters();
  const { alias } = list;
  const id = `${alias}.id`;
  const from = `${manager.dataSource.getMetadata(list.entity).tableName} ${alias}`;
  const parentArray = params.add(parentIds, '::uuid[]');
  // The parents' alias is one no list uses (a list aliased p once compared its own column with itself).
  const filtered = [`${alias}.${list.parent} = parent_.id`, ...where(params)].join(' AND ');
  const order = qualified(list, page.backward);
  const past = page.cursor ? ` AND ${pastCursorSql(order, id, page.cursor, params)}` : '';
  const limit = params.add(page.size + 1, '::int');
  const counted = page.total !== false;
  const admitted = parents ? ` WHERE ${parents('parent_.id', params)}` : '';
  const text = `SELECT parent_.id AS "parentId", ${counted ? 'counts.total' : 'NULL AS total'}, page.*
       FROM unnest(${parentArray}) AS parent_(id)${
         counted
           ? `\n      CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM ${from} WHERE ${filtered}) counts`
           : ''
       }
       LEFT JOIN LATERAL (
            SELECT ${selectList(manager, list.entity, alias, list.omit)}, ${sortKeySql(qualified(list, false))} AS "sortKey"
              FROM ${from}
             WHERE ${filtered}${past}
             ORDER BY ${orderBySql(order, id)}
             LIMIT ${limit}) page ON true${admitted}`;
  // A page without its count reads at most `first` + 1 rows per parent by index: pipelined outside a transaction.
  // A count reads every row the filter admits, and would hold up the statements behind it on a shared connection.
  const rows = (await manager.query(counted ? text : pipelinedRead(text), params.values)) as PageRow<T>[];
  return connectionsByParent(parentIds, rows, page, (row) => [row.sortKey, row.id], {
    absentWhenNoRow: Boolean(parents),
  }) as (Connection<T> | undefined)[];
}
