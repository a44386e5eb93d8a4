import { likePattern, type SqlParameters } from '../../platform/database/sql';
import type { CursorKind, CursorValue, PageRequest } from '../../platform/pagination';
import type { TaskFilter, TaskOrder } from './project.inputs';
import { OrderDirection, TaskOrderField } from './project.types';

/** How one TaskOrder sorts: a column, its cursor kind, and whether it can be NULL (due dates sort last ascending). */
export interface TaskOrdering {
  column: 'created_at' | 'updated_at' | 'priority' | 'due_date';
  kinds: CursorKind[];
  descending: boolean;
  nullable: boolean;
}

const COLUMNS: Record<TaskOrderField, Omit<TaskOrdering, 'descending'>> = {
  [TaskOrderField.CREATED_AT]: { column: 'created_at', kinds: ['timestamp', 'uuid'], nullable: false },
  [TaskOrderField.UPDATED_AT]: { column: 'updated_at', kinds: ['timestamp', 'uuid'], nullable: false },
  [TaskOrderField.PRIORITY]: { column: 'priority', kinds: ['int', 'uuid'], nullable: false },
  [TaskOrderField.DUE_DATE]: { column: 'due_date', kinds: ['timestamp', 'uuid'], nullable: true },
};

/** Without orderBy: newest first. */
export function taskOrdering(order?: TaskOrder | null): TaskOrdering {
  const field = order?.field ?? TaskOrderField.CREATED_AT;
  return { ...COLUMNS[field], descending: (order?.direction ?? OrderDirection.DESC) === OrderDirection.DESC };
}

/** The WHERE conditions of a TaskFilter on table alias `t`. */
export function taskFilterSql(filter: TaskFilter | null | undefined, params: SqlParameters): string[] {
  const conditions: string[] = [];
  if (filter?.status?.length) conditions.push(`t.status = ANY(${params.add(filter.status, '::text[]')})`);
  if (filter?.assigneeId) conditions.push(`t.assignee_id = ${params.add(filter.assigneeId, '::uuid')}`);
  if (filter?.priorityAtLeast !== undefined && filter.priorityAtLeast !== null) {
    conditions.push(`t.priority >= ${params.add(filter.priorityAtLeast, '::int')}`);
  }
  if (filter?.search?.trim()) conditions.push(`t.title ILIKE ${params.add(likePattern(filter.search.trim()))}`);
  return conditions;
}

/** The sort key as its cursor carries it: timestamps in PostgreSQL's text form, so microseconds survive the trip. */
export function sortKeySql(ordering: TaskOrdering): string {
  return ordering.column === 'priority' ? 't.priority' : `t.${ordering.column}::text`;
}

export function orderBySql(ordering: TaskOrdering): string {
  const direction = ordering.descending ? 'DESC' : 'ASC';
  const nulls = ordering.nullable ? (ordering.descending ? ' NULLS FIRST' : ' NULLS LAST') : '';
  return `t.${ordering.column} ${direction}${nulls}, t.id ${direction}`;
}

/** Rows strictly after the cursor in this ordering (keyset pagination; NULL due dates sort last ascending, first descending). */
export function afterCursorSql(ordering: TaskOrdering, page: PageRequest, params: SqlParameters): string | undefined {
  if (!page.after) return undefined;
  const [key, id] = page.after as [CursorValue, string];
  const cast = ordering.column === 'priority' ? '::int' : '::timestamptz';
  const op = ordering.descending ? '<' : '>';
  const column = `t.${ordering.column}`;
  const idParam = params.add(id, '::uuid');
  if (!ordering.nullable) return `(${column}, t.id) ${op} (${params.add(key, cast)}, ${idParam})`;
  if (key === null) {
    return ordering.descending ? `((${column} IS NULL AND t.id < ${idParam}) OR ${column} IS NOT NULL)` : `(${column} IS NULL AND t.id > ${idParam})`;
  }
  const keyParam = params.add(key, cast);
  const after = `(${column} ${op} ${keyParam} OR (${column} = ${keyParam} AND t.id ${op} ${idParam}))`;
  return ordering.descending ? after : `(${after} OR ${column} IS NULL)`;
}

/** The task columns under the names of the Task type. */
export const TASK_COLUMNS = `t.id, t.project_id AS "projectId", t.organization_id AS "organizationId", t.title, t.description,
  t.status, t.priority, t.due_date AS "dueDate", t.assignee_id AS "assigneeId", t.created_by_id AS "createdById",
  t.version, t.created_at AS "createdAt", t.updated_at AS "updatedAt"`;
