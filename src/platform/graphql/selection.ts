import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

type Info = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

const remembered = new WeakMap<readonly FieldNode[], Map<string, boolean>>();

/**
 * Whether the field being resolved selects `path` below it (`['totalCount']`,
 * `['edges', 'node', 'assignee']`), under any alias and through fragments:
 * work that only a selected field needs (a count, records fetched ahead) is
 * done only then. A field under @skip/@include counts as selected. Remembered
 * per field node list, which graphql-js shares between the parents of one list.
 */
export function selects(info: Info, path: readonly string[]): boolean {
  let byPath = remembered.get(info.fieldNodes);
  if (!byPath) {
    byPath = new Map();
    remembered.set(info.fieldNodes, byPath);
  }
  const key = path.join('.');
  let selected = byPath.get(key);
  if (selected === undefined) {
    selected = info.fieldNodes.some(
      (node) => node.selectionSet !== undefined && selectsIn(node.selectionSet, path, info.fragments, new Set()),
    );
    byPath.set(key, selected);
  }
  return selected;
}

function selectsIn(
  selectionSet: SelectionSetNode,
  path: readonly string[],
  fragments: Info['fragments'],
  seen: Set<string>,
): boolean {
  const [name, ...rest] = path;
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== name) return false;
      return (
        rest.length === 0 ||
        (selection.selectionSet !== undefined && selectsIn(selection.selectionSet, rest, fragments, seen))
      );
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsIn(selection.selectionSet, path, fragments, seen);
    const fragmentName = selection.name.value;
    if (seen.has(fragmentName)) return false;
    const fragment = fragments[fragmentName];
    return (
      fragment !== undefined && selectsIn(fragment.selectionSet, path, fragments, new Set([...seen, fragmentName]))
    );
  });
}
