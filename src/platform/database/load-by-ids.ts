import DataLoader from 'dataloader';
import { In, type EntityManager, type EntityTarget, type FindOptionsWhere } from 'typeorm';
import { LoaderKey } from '../graphql/context';

/** The batch function of a by-id DataLoader: one query for all ids, answers in the order asked, undefined where absent. */
export async function loadByIds<T extends { id: string }>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  ids: readonly string[],
): Promise<(T | undefined)[]> {
  const rows = await manager.findBy(entity, { id: In([...ids]) } as FindOptionsWhere<T>);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

/** A per-request by-id loader: every id asked for in one tick is one statement. */
export function byIdLoader<T>(name: string, load: (ids: readonly string[]) => Promise<(T | undefined)[]>): LoaderKey<DataLoader<string, T | undefined>> {
  return new LoaderKey(name, () => new DataLoader(load));
}

/** A per-request loader of each key's rows (a task's labels, say): every key asked for in one tick is one statement. */
export function groupedLoader<T>(name: string, load: (keys: readonly string[]) => Promise<Map<string, T[]>>): LoaderKey<DataLoader<string, T[]>> {
  return new LoaderKey(name, () => new DataLoader(async (keys: readonly string[]) => {
    const groups = await load(keys);
    return keys.map((key) => groups.get(key) ?? []);
  }));
}
