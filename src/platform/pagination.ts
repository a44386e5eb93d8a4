import DataLoader from 'dataloader';
import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from './errors';
import { isUuid } from './ids';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ObjectType({ simpleResolvers: true, description: 'Where a page ends and whether another follows.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** The Relay connection and edge types of one node type: `<Name>Connection`, `<Name>Edge`. */
export function connectionType<T extends object>(name: string, nodeType: ClassType<T>): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field(() => String)
    cursor: string;

    @Field(() => nodeType)
    node: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }
  return ConnectionType;
}

/** The kinds of value an order key can hold; `timestamp` travels as PostgreSQL's text form, so microseconds survive. */
export type CursorKind = 'timestamp' | 'uuid' | 'int' | 'string';
export type CursorValue = string | number | null;

const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;

function fits(kind: CursorKind, value: unknown): boolean {
  if (value === null) return true;
  switch (kind) {
    case 'timestamp':
      return typeof value === 'string' && (TIMESTAMP_TEXT.test(value) || value === 'infinity' || value === '-infinity');
    case 'uuid':
      return typeof value === 'string' && isUuid(value);
    case 'int':
      return Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
  }
}

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The order-key values an `after` cursor carries; BAD_USER_INPUT for anything this ordering did not produce. */
export function decodeCursor(cursor: string, kinds: CursorKind[]): CursorValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || values.length !== kinds.length || !values.every((value, index) => fits(kinds[index], value))) {
    throw BadUserInputError.field('after', 'after is not a valid cursor for this list');
  }
  return values as CursorValue[];
}

/** `first` checked cheaply (no class-validator per argument): 1..100, else BAD_USER_INPUT. */
export function pageSize(first: number | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw BadUserInputError.field('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
}

/** A page from rows fetched with LIMIT size + 1: the extra row only says that another page follows. */
export function toConnection<T>(rows: T[], size: number, totalCount: number, keyOf: (row: T) => CursorValue[]): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ node, cursor: encodeCursor(keyOf(node)) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}

export interface PageRequest {
  size: number;
  /** The decoded `after` cursor, or undefined for the first page. */
  after: CursorValue[] | undefined;
}

/**
 * "A page of children for each parent" batched per request: every parent asked
 * for with the same page arguments in one tick is one query (a LATERAL join
 * over the parent ids), whatever the number of parents.
 */
export class ChildPageLoader<TParentId, TNode> {
  private readonly byArguments = new Map<string, DataLoader<TParentId, Connection<TNode>>>();

  constructor(private readonly loadPages: (parentIds: readonly TParentId[], page: PageRequest) => Promise<Connection<TNode>[]>) {}


  /** `page` may carry more than size and cursor (a filter, an ordering): all of it decides which parents batch together. */
  load<TPage extends PageRequest>(parentId: TParentId, page: TPage): Promise<Connection<TNode>> {
    const key = JSON.stringify(page);
    let loader = this.byArguments.get(key);
    if (!loader) {
      loader = new DataLoader((parentIds) => this.loadPages(parentIds, page));
      this.byArguments.set(key, loader);
    }
    return loader.load(parentId);
  }
}

/** A row of a batched child-page query: the parent it belongs to, the parent's total, and a child (id null when none). */
export type ChildPageRow<T> = T & { parentId: string; total: number; id: string | null };

/** Splits the rows of one batched LATERAL query into a connection per parent, in the order of `parentIds`. */
export function connectionsByParent<T extends { id: string | null }>(
  parentIds: readonly string[],
  rows: ChildPageRow<T>[],
  size: number,
  keyOf: (row: T) => CursorValue[],
): Connection<T>[] {
  const byParent = new Map<string, { total: number; children: T[] }>();
  for (const row of rows) {
    const group = byParent.get(row.parentId) ?? { total: row.total, children: [] };
    if (row.id !== null) group.children.push(row);
    byParent.set(row.parentId, group);
  }
  return parentIds.map((parentId) => {
    const group = byParent.get(parentId) ?? { total: 0, children: [] };
    return toConnection(group.children, size, group.total, keyOf);
  });
}
