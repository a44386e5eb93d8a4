import type { SqlParameters } from '../../platform/database/sql';
import type { TaskFilter } from './project.inputs';

/** Conditions on tasks (alias `t`) for the TaskFilter fields another module added; values bound through `params`. */
export type TaskFilterCondition<TFields extends object = object> = (
  filter: TaskFilter & Partial<TFields>,
  params: SqlParameters,
) => string[];

/**
 * The tasks list's extension point: a module built after projects adds a
 * field to TaskFilter (addInputField) and registers here what it means in
 * SQL (written in that module's repository), so projects never names it.
 */
export class TaskFilterExtensions {
  private readonly conditions: TaskFilterCondition[] = [];

  add<TFields extends object>(condition: TaskFilterCondition<TFields>): void {
    this.conditions.push(condition as TaskFilterCondition);
  }

  conditionsFor(filter: TaskFilter, params: SqlParameters): string[] {
    return this.conditions.flatMap((condition) => condition(filter, params));
  }
}
