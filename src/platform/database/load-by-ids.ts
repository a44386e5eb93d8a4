import { In, type DataSource, type EntityTarget, type FindOptionsWhere } from 'typeorm';

/** The batch function of a by-id DataLoader: one query for all ids, answers in the order asked, undefined where absent. */
export async function loadByIds<T extends { id: string }>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  ids: readonly string[],
): Promise<(T | undefined)[]> {
  const rows = await dataSource.getRepository(entity).findBy({ id: In([...ids]) } as FindOptionsWhere<T>);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}
