import type { EntityManager } from 'typeorm';
import {
  columnValues,
  insertRow,
  selectList,
  splitPrefixed,
  statementText,
} from '../../platform/database/entity-columns';
import { loadKeysetPages, type KeysetOrder } from '../../platform/database/keyset-pages';
import { byIdsStatement, inIdOrder, loadByIds, queryByIds } from '../../platform/database/load-by-ids';
import { likePattern } from '../../platform/database/sql';
import type { Connection, PageRequest } from '../../platform/pagination';
import { userColumnsSql, type UserRow } from '../identity';
import { membershipSql } from '../organizations';
import type { TaskFilter, TaskOrder } from './project.inputs';
import { OrderDirection, TaskOrderField } from './project.types';
import type { TaskFilterExtensions } from './task-filters';
import { TaskEntity } from './task.entity';

const ORDER_COLUMNS: Record<TaskOrderField, Omit<KeysetOrder, 'descending'>> = {
  [TaskOrderField.CREATED_AT]: { column: 'created_at', kind: 'timestamp' },
  [TaskOrderField.UPDATED_AT]: { column: 'updated_at', kind: 'timestamp' },
  [TaskOrderField.PRIORITY]: { column: 'priority', kind: 'int' },
  [TaskOrderField.DUE_DATE]: { column: 'due_date', kind: 'timestamp', nullable: true },
};

/** How a TaskOrder sorts; without one, newest first. */
export function taskOrder(order?: TaskOrder | null): KeysetOrder {
  const field = order?.field ?? TaskOrderField.CREATED_AT;
  return { ...ORDER_COLUMNS[field], descending: (order?.direction ?? OrderDirection.DESC) === OrderDirection.DESC };
}

export interface TaskPageRequest extends PageRequest {
  order: KeysetOrder;
  filter?: TaskFilter | null;
}

const visibleByIdsSql = statementText((manager) =>
  byIdsStatement(
    (idsMatch) =>
      `SELECT ${selectList(manager, TaskEntity, 't')} FROM tasks t WHERE ${idsMatch('t.id')} AND ${membershipSql('t.organization_id', '$2::uuid')}`,
  ),
);

const visibleWithAssigneesByIdsSql = statementText((manager) =>
  byIdsStatement(
    (idsMatch) =>
      `SELECT ${selectList(manager, TaskEntity, 't')}, ${userColumnsSql(manager, 'a', 'assignee')} FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id WHERE ${idsMatch('t.id')} AND ${membershipSql('t.organization_id', '$2::uuid')}`,
  ),
);

/** Every statement about tasks. */
export class TasksRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(TaskEntity | undefined)[]> {
    return loadByIds(this.manager, TaskEntity, ids);
  }

  /**
   * The tasks `userId` may see (a member of their organization), in the order
   * asked, undefined where absent or hidden alike: the row and the membership
   * check in one statement.
   */
  async visibleByIds(ids: readonly string[], userId: string): Promise<(TaskEntity | undefined)[]> {
    const rows = (await queryByIds(this.manager, visibleByIdsSql(this.manager), ids, userId)) as TaskEntity[];
    return inIdOrder(ids, rows);
  }

  /** As visibleByIds, with each task's assignee read in the same statement (null when unassigned). */
  async visibleWithAssigneesByIds(
    ids: readonly string[],
    userId: string,
  ): Promise<({ task: TaskEntity; assignee: UserRow | null } | undefined)[]> {
    const rows = (await queryByIds(this.manager, visibleWithAssigneesByIdsSql(this.manager), ids, userId)) as Record<
      string,
      unknown
    >[];
    const found = rows.map((read) => {
      const { row, joined } = splitPrefixed<TaskEntity, UserRow>(read, 'assignee');
      return { id: row.id, task: row, assignee: joined };
    });
    return inIdOrder(ids, found);
  }

  /** The task columns an input carries, normalised as stored (see columnValues): the service never lists fields. */
  valuesOf(input: object): Partial<TaskEntity> {
    return columnValues(this.manager, TaskEntity, input);
  }

  /** Columns left out take their defaults (NULL where nullable), and the returned task shows them. */
  async insert(values: Partial<TaskEntity>): Promise<TaskEntity> {
    return insertRow(this.manager, TaskEntity, values);
  }

  async lockForUpdate(id: string): Promise<TaskEntity | undefined> {
    return (
      (await this.manager.findOne(TaskEntity, { where: { id }, lock: { mode: 'pessimistic_write' } })) ?? undefined
    );
  }

  /** Applies `values` with version + 1 and returns the row as stored. */
  async update(id: string, values: Partial<TaskEntity>): Promise<TaskEntity> {
    await this.manager.update(TaskEntity, id, { ...values, version: () => 'version + 1' });
    return this.manager.findOneByOrFail(TaskEntity, { id });
  }

  async delete(id: string): Promise<boolean> {
    const { affected } = await this.manager.delete(TaskEntity, id);
    return Boolean(affected);
  }

  /** Who the tasks concern, in one statement; a task that is gone is absent from the map. */
  async participantsOf(
    ids: readonly string[],
  ): Promise<Map<string, Pick<TaskEntity, 'id' | 'title' | 'assigneeId' | 'createdById' | 'organizationId'>>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.manager.query(
      `SELECT id, title, assignee_id AS "assigneeId", created_by_id AS "createdById", organization_id AS "organizationId" FROM tasks WHERE id = ANY($1::uuid[])`,
      [ids],
    )) as Pick<TaskEntity, 'id' | 'title' | 'assigneeId' | 'createdById' | 'organizationId'>[];
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Holds the task (FOR SHARE) until the transaction ends, so it cannot be deleted under a write that refers to it; false when gone. */
  async lockShared(id: string): Promise<boolean> {
    const rows = (await this.manager.query('SELECT 1 FROM tasks WHERE id = $1 FOR SHARE', [id])) as unknown[];
    return rows.length > 0;
  }

  /** A page of tasks per project, in one statement for any number of projects; `extensions` add other modules' filter fields. */
  pages(
    projectIds: readonly string[],
    page: TaskPageRequest,
    extensions?: TaskFilterExtensions,
  ): Promise<Connection<TaskEntity>[]> {
    const list = { entity: TaskEntity, alias: 't', parent: 'project_id', order: page.order };
    return loadKeysetPages(this.manager, list, projectIds, page, (params) => {
      const { filter } = page;
      const conditions: string[] = [];
      if (filter?.status?.length) conditions.push(`t.status = ANY(${params.add(filter.status, '::text[]')})`);
      if (filter?.assigneeId)
        conditions.push(`t.assignee_id = ${params.add(filter.assigneeId.toLowerCase(), '::uuid')}`);
      if (filter?.priorityAtLeast != null)
        conditions.push(`t.priority >= ${params.add(filter.priorityAtLeast, '::int')}`);
      const search = filter?.search?.trim();
      if (search) conditions.push(`t.title ILIKE ${params.add(likePattern(search))}`);
      if (filter && extensions) conditions.push(...extensions.conditionsFor(filter, params));
      return conditions;
    });
  }
}
