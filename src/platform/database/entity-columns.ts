import type { DataSource, EntityManager, EntityMetadata, EntityTarget } from 'typeorm';

const selectLists = new WeakMap<EntityMetadata, Map<string, string>>();

/**
 * Every column of an entity under its property name, `t.due_date AS "dueDate"`,
 * read from the entity's metadata: a new column is selected without touching SQL.
 * `omit` leaves out properties a list never shows (a large payload, say).
 * `prefix` names the columns `"<prefix>.dueDate"` instead, for a row read beside
 * another entity's in one statement (`splitPrefixed` takes it back out).
 */
export function selectList(
  manager: EntityManager,
  entity: EntityTarget<object>,
  alias: string,
  omit: readonly string[] = [],
  prefix = '',
): string {
  const metadata = manager.dataSource.getMetadata(entity);
  let byAlias = selectLists.get(metadata);
  if (!byAlias) {
    byAlias = new Map();
    selectLists.set(metadata, byAlias);
  }
  const key = `${alias} ${omit.join(',')} ${prefix}`;
  let list = byAlias.get(key);
  if (!list) {
    const as = prefix ? `${prefix}.` : '';
    list = metadata.columns
      .filter((column) => !omit.includes(column.propertyName))
      .map((column) => `${alias}.${column.databaseName} AS "${as}${column.propertyName}"`)
      .join(', ');
    byAlias.set(key, list);
  }
  return list;
}

/**
 * A statement's text, built on first use for each DataSource (its column
 * lists come from the entities' metadata, `selectList`) and kept: a hot read
 * then hands the driver the same string every time, whose hash V8 keeps for
 * the prepared-statement lookups, instead of building and hashing ~700
 * characters per call.
 */
export function statementText<T = string>(build: (manager: EntityManager) => T): (manager: EntityManager) => T {
  const built = new WeakMap<DataSource, T>();
  return (manager) => {
    let text = built.get(manager.dataSource);
    if (text === undefined) {
      text = build(manager);
      built.set(manager.dataSource, text);
    }
    return text;
  };
}

/**
 * A row read with another entity's columns beside its own (`selectList(…,
 * prefix)`), split in two: `row`, the main entity's columns as if read alone,
 * and `joined`, the other one, null when its id is NULL (a LEFT JOIN that
 * found nothing). Both are new objects: deleting keys would leave V8 a slow
 * dictionary-mode object to resolve fields from.
 */
export function splitPrefixed<T, J extends { id: string }>(
  read: Record<string, unknown>,
  prefix: string,
): { row: T; joined: J | null } {
  const start = `${prefix}.`;
  const row: Record<string, unknown> = {};
  const joined: Record<string, unknown> = {};
  for (const key in read) {
    if (key.startsWith(start)) joined[key.slice(start.length)] = read[key];
    else row[key] = read[key];
  }
  return { row: row as T, joined: joined.id == null ? null : (joined as J) };
}

/**
 * The entity's columns that `input` carries, as the row stores them: text
 * trimmed (blank becomes NULL where the column allows it), ids lower-cased,
 * and `null` dropped for a column that cannot hold it (GraphQL's "leave it
 * as it is"). Other keys of `input` (an id, an expectedVersion) are ignored.
 */
export function columnValues<T extends object>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  input: object,
): Partial<T> {
  const values: Record<string, unknown> = {};
  for (const column of manager.dataSource.getMetadata(entity).columns) {
    if (column.isPrimary || column.isCreateDate || column.isUpdateDate || column.isVersion) continue;
    let value = (input as Record<string, unknown>)[column.propertyName];
    if (value === undefined) continue;
    if (typeof value === 'string') value = column.type === 'uuid' ? value.toLowerCase() : value.trim();
    if (value === '' && column.isNullable) value = null;
    if (value === null && !column.isNullable) continue;
    values[column.propertyName] = value;
  }
  return values as Partial<T>;
}

/** `values` with every column it leaves out set to the column's constant default, or NULL where nullable, so an insert's result is whole. */
export function withDefaults<T extends object>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
): Partial<T> {
  const whole: Record<string, unknown> = { ...values };
  for (const column of manager.dataSource.getMetadata(entity).columns) {
    if (whole[column.propertyName] !== undefined || column.isGenerated || column.isCreateDate || column.isUpdateDate)
      continue;
    if (typeof column.default === 'string' || typeof column.default === 'number' || typeof column.default === 'boolean')
      whole[column.propertyName] = column.default;
    else if (column.isNullable) whole[column.propertyName] = null;
  }
  return whole as Partial<T>;
}

/** Inserts one row (INSERT ... RETURNING fills ids and timestamps) and returns it whole, defaults included. */
export async function insertRow<T extends object>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: Partial<T>,
): Promise<T> {
  const row = manager.create(entity, withDefaults(manager, entity, values) as T);
  await manager.insert(entity, row);
  return row;
}
