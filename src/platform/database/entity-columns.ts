import type { EntityManager, EntityMetadata, EntityTarget } from 'typeorm';

const selectLists = new WeakMap<EntityMetadata, Map<string, string>>();

/**
 * Every column of an entity under its property name, `t.due_date AS "dueDate"`,
 * read from the entity's metadata: a new column is selected without touching SQL.
 * `omit` leaves out properties a list never shows (a large payload, say).
 */
export function selectList(
  manager: EntityManager,
  entity: EntityTarget<object>,
  alias: string,
  omit: readonly string[] = [],
): string {
  const metadata = manager.dataSource.getMetadata(entity);
  let byAlias = selectLists.get(metadata);
  if (!byAlias) {
    byAlias = new Map();
    selectLists.set(metadata, byAlias);
  }
  const key = `${alias} ${omit.join(',')}`;
  let list = byAlias.get(key);
  if (!list) {
    list = metadata.columns
      .filter((column) => !omit.includes(column.propertyName))
      .map((column) => `${alias}.${column.databaseName} AS "${column.propertyName}"`)
      .join(', ');
    byAlias.set(key, list);
  }
  return list;
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
