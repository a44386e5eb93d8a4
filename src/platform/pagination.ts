import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from './errors';
import { checkedInCode } from './graphql/argument-validation';
import { LoaderKey } from './graphql/context';
import { selects } from './graphql/selection';
import { isUuid } from './ids';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ObjectType({ simpleResolvers: true, description: 'Where a page starts and ends, and whether more lie either way.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor: string | null;

  @Field(() => Boolean, {
    description: 'With first/after: whether an `after` cursor was given (rows may lie before it).',
  })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `before` (with `last`) for the previous page.' })
  startCursor: string | null;
}

/** The arguments of every connection field: `first`/`after` forward, `last`/`before` backward. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFAULT_PAGE_SIZE,
    description: `1 to ${MAX_PAGE_SIZE}; ignored when last is given.`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: `1 to ${MAX_PAGE_SIZE}: the page that ends at \`before\` (or the list's end).`,
  })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}
// Sizes and cursors are checked by pageRequest, cheaply, in code (BAD_USER_INPUT), never by class-validator.
checkedInCode(PageArgs);

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

/** The order-key values a cursor carries; BAD_USER_INPUT for anything this ordering did not produce. */
export function decodeCursor(cursor: string, kinds: CursorKind[], argument = 'after'): CursorValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (
    !Array.isArray(values) ||
    values.length !== kinds.length ||
    !values.every((value, index) => fits(kinds[index], value))
  ) {
    throw BadUserInputError.field(argument, `${argument} is not a valid cursor for this list`);
  }
  return values as CursorValue[];
}

/** A page size checked cheaply (no class-validator per argument): 1..100, else BAD_USER_INPUT. */
function pageSize(value: number, argument: 'first' | 'last'): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw BadUserInputError.field(argument, `${argument} must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return value;
}

/** A page as the keyset loaders read it. */
export interface PageRequest {
  size: number;
  /** The decoded cursor to start past, or undefined for the list's first (or, backward, last) page. */
  cursor: CursorValue[] | undefined;
  /** `last`/`before`: read towards the start of the list. */
  backward: boolean;
  /** false: totalCount was not selected, so the list is not counted (its totalCount is then null, never sent). */
  total?: boolean;
}

/** PageArgs and, from the resolver, whether totalCount was selected (see selectsTotalCount); counted unless false. */
export type PageQuery = PageArgs & { total?: boolean };

/** PageArgs checked and decoded for an order whose cursors hold `kinds`. */
export function pageRequest(args: PageQuery, kinds: CursorKind[]): PageRequest {
  const total = args.total !== false;
  if (args.last != null) {
    if (args.after != null) throw BadUserInputError.field('after', 'after goes with first; use before with last');
    const size = pageSize(args.last, 'last');
    return {
      size,
      cursor: args.before != null ? decodeCursor(args.before, kinds, 'before') : undefined,
      backward: true,
      total,
    };
  }
  if (args.before != null) throw BadUserInputError.field('before', 'before goes with last; use after with first');
  const size = pageSize(args.first ?? DEFAULT_PAGE_SIZE, 'first');
  return { size, cursor: args.after != null ? decodeCursor(args.after, kinds) : undefined, backward: false, total };
}

/** Whether a connection field's selection asks for totalCount (under any alias, through fragments): a list is counted only then. */
export function selectsTotalCount(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): boolean {
  return selects(info, ['totalCount']);
}

/** An edge whose cursor is encoded only if it is read (few queries select every edge's cursor; a nested page has hundreds). */
class LazyEdge<T> implements Edge<T> {
  constructor(
    readonly node: T,
    private readonly keyOf: (row: T) => CursorValue[],
  ) {}

  get cursor(): string {
    return encodeCursor(this.keyOf(this.node));
  }
}

/** A page from rows fetched with LIMIT size + 1, in reading order: the extra row only says that more follow. */
export function toConnection<T>(
  rows: T[],
  page: PageRequest,
  totalCount: number,
  keyOf: (row: T) => CursorValue[],
): Connection<T> {
  const nodes = rows.slice(0, page.size);
  if (page.backward) nodes.reverse();
  const edges = nodes.map((node) => new LazyEdge(node, keyOf));
  const more = rows.length > page.size;
  const fromCursor = page.cursor !== undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: page.backward ? fromCursor : more,
      hasPreviousPage: page.backward ? more : fromCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/**
 * "A page of children for each parent" batched per request: every parent asked
 * for with the same page arguments in one tick is one query (a LATERAL join
 * over the parent ids), whatever the number of parents.
 */
export class ChildPageLoader<TParentId, TNode, TPage extends PageRequest = PageRequest> {
  private readonly byArguments = new Map<string, DataLoader<TParentId, Connection<TNode>>>();

  constructor(
    private readonly loadPages: (parentIds: readonly TParentId[], page: TPage) => Promise<Connection<TNode>[]>,
  ) {}

  /** `page` may carry more than size and cursor (a filter, an ordering): all of it decides which parents batch together. */
  load(parentId: TParentId, page: TPage): Promise<Connection<TNode>> {
    const key = JSON.stringify(page);
    let loader = this.byArguments.get(key);
    if (!loader) {
      loader = new DataLoader((parentIds) => this.loadPages(parentIds, page));
      this.byArguments.set(key, loader);
    }
    return loader.load(parentId);
  }
}

/** A per-request ChildPageLoader: every parent's page asked for in one tick with the same arguments is one statement. */
export function childPagesLoader<TNode, TPage extends PageRequest = PageRequest>(
  name: string,
  loadPages: (parentIds: readonly string[], page: TPage) => Promise<Connection<TNode>[]>,
): LoaderKey<ChildPageLoader<string, TNode, TPage>> {
  return new LoaderKey(name, () => new ChildPageLoader(loadPages));
}

/** A row of a batched child-page query: the parent it belongs to, the parent's total, and a child (id null when none). */
export type ChildPageRow<T> = T & { parentId: string; total: number; id: string | null };

/**
 * Splits the rows of one batched LATERAL query into a connection per parent,
 * in the order of `parentIds`. A parent without a row has an empty
 * connection, or with `absentWhenNoRow` (the query left the parent out, as
 * one it may not read) undefined.
 */
export function connectionsByParent<T extends { id: string | null }>(
  parentIds: readonly string[],
  rows: ChildPageRow<T>[],
  page: PageRequest,
  keyOf: (row: T) => CursorValue[],
  options: { absentWhenNoRow?: boolean } = {},
): (Connection<T> | undefined)[] {
  const byParent = new Map<string, { total: number; children: T[] }>();
  for (const row of rows) {
    let group = byParent.get(row.parentId);
    if (!group) {
      group = { total: row.total, children: [] };
      byParent.set(row.parentId, group);
    }
    if (row.id !== null) group.children.push(row);
  }
  return parentIds.map((parentId) => {
    const group = byParent.get(parentId);
    if (!group && options.absentWhenNoRow) return undefined;
    return toConnection(group?.children ?? [], page, group?.total ?? 0, keyOf);
  });
}
