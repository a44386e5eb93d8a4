/** A field's value before and after an update. */
export type Change<T> = { from: T; to: T };

/** A value as an event's JSON carries it: dates as ISO-8601 text. */
export function plain(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** The fields among `fields` whose values differ, as JSON-friendly before/after pairs. */
export function changesBetween<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): Record<string, Change<unknown>> {
  const changes: Record<string, Change<unknown>> = {};
  for (const field of fields) {
    const [from, to] = [plain(before[field]), plain(after[field])];
    if (from !== to) changes[field] = { from, to };
  }
  return changes;
}
