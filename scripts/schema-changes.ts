import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

export interface SchemaChange {
  level: 'breaking' | 'dangerous' | 'safe';
  /** The schema coordinate a CHANGELOG entry must name: `Type`, `Type.field` or `Enum.VALUE`; `schema` for the root types. */
  coordinate: string;
  message: string;
  /** graphql-inspector's why, where it gives one (what a client may see). */
  reason?: string;
}

const LEVELS: Record<CriticalityLevel, SchemaChange['level']> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

/** Every change from `before` to `after` (SDL texts), classified by graphql-inspector: breaking, dangerous or safe. */
export async function schemaChanges(before: string, after: string): Promise<SchemaChange[]> {
  const changes = await diff(buildSchema(before), buildSchema(after));
  return changes.map((change: Change) => ({
    level: LEVELS[change.criticality.level],
    coordinate: coordinateOf(change.path),
    message: change.message,
    reason: change.criticality.reason,
  }));
}

/** An argument's path (`Query.projects.status`) is recorded under its field: a CHANGELOG names at most `Type.field`. */
function coordinateOf(path: string | undefined): string {
  if (!path) return 'schema';
  return path.split('.').slice(0, 2).join('.');
}

/**
 * The code spans of the list under `### Breaking` in the `## [Unreleased]`
 * section of a Keep a Changelog file: what a breaking change must be named in.
 */
export function unreleasedBreakingEntries(changelog: string): string[] {
  const unreleased = section(changelog.split('\n'), /^##\s+\[?unreleased\]?\s*$/i, /^##\s/);
  const breaking = section(unreleased, /^###\s+breaking\b/i, /^#{2,3}\s/);
  return [...breaking.join('\n').matchAll(/`([^`\n]+)`/g)].map((match) => match[1].trim());
}

function section(lines: string[], heading: RegExp, next: RegExp): string[] {
  const start = lines.findIndex((line) => heading.test(line.trim()));
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && next.test(line.trim()));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** A code span records a coordinate when it starts with it and goes on with no more of a name: `User.email`, `Query.projects(status:)`, `User.email: String`. */
export function isRecorded(coordinate: string, entries: string[]): boolean {
  return entries.some(
    (entry) => entry.startsWith(coordinate) && !/^[_A-Za-z0-9.]/.test(entry.slice(coordinate.length)),
  );
}
