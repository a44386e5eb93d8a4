import {
  getNullableType,
  isInputObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import type { FieldError } from '../errors';

/** Text PostgreSQL cannot store: NUL, and UTF-16 surrogates without their pair (no UTF-8 encoding exists for them). */
const INVALID_TEXT = /[\0\p{Cs}]/u;

/** What is wrong with a string as text, in class-validator's words ("<field> must …"), or undefined when it is fine. */
export function invalidText(field: string, value: string): string | undefined {
  const found = INVALID_TEXT.exec(value)?.[0];
  if (found === undefined) return undefined;
  return found === '\0'
    ? `${field} must not contain the NUL character (U+0000)`
    : `${field} must not contain an unpaired UTF-16 surrogate`;
}

type Path = (string | number)[];

/** What one operation's document says, worked out once per parsed document (Apollo caches those). */
interface OperationText {
  /** Invalid text written into the document itself. */
  literalErrors: FieldError[];
  /** Where each variable is first used: the input path of its argument, so errors name the field, not the variable. */
  variablePaths: Map<string, Path>;
}

const analyses = new WeakMap<OperationDefinitionNode, OperationText>();

/**
 * Every string an operation passes to a field or directive argument, literal
 * or through a variable, checked once before any resolver runs: invalid text
 * in any of them is BAD_USER_INPUT naming its field, with the path
 * class-validator would report (relative to an input-object argument:
 * `email` for `signUp(input: { email })`; the argument's name for a scalar
 * one). Empty when every string is valid text.
 */
export function invalidTextIn(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): FieldError[] {
  let analysis = analyses.get(operation);
  if (!analysis) {
    analysis = analyse(schema, document, operation);
    analyses.set(operation, analysis);
  }
  const errors = [...analysis.literalErrors];
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const value = variables?.[name];
    if (value !== undefined) errors.push(...invalidTextInValue(value, analysis.variablePaths.get(name) ?? [name]));
  }
  return errors.slice(0, MAX_ERRORS);
}

function analyse(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): OperationText {
  const typeInfo = new TypeInfo(schema);
  const literalErrors: FieldError[] = [];
  const variablePaths = new Map<string, Path>();
  const walk = (node: ValueNode, path: Path) => {
    switch (node.kind) {
      case Kind.STRING: {
        const field = dotted(path);
        const message = invalidText(field, node.value);
        if (message) literalErrors.push({ field, messages: [message] });
        return;
      }
      case Kind.OBJECT:
        for (const field of node.fields) walk(field.value, [...path, field.name.value]);
        return;
      case Kind.LIST:
        node.values.forEach((item, index) => walk(item, [...path, index]));
        return;
      case Kind.VARIABLE:
        if (!variablePaths.has(node.name.value)) variablePaths.set(node.name.value, path);
        return;
      default:
        return;
    }
  };
  const visitor = visitWithTypeInfo(typeInfo, {
    Argument(node) {
      const type = typeInfo.getInputType();
      walk(node.value, type && isInputObjectType(getNullableType(type)) ? [] : [node.name.value]);
      return false;
    },
  });
  // The operation and the fragments it may spread; other operations of the document do not run.
  visit(operation, visitor);
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, visitor);
  return { literalErrors, variablePaths };
}

/** Enough to show a client what is wrong without echoing a huge body back. */
const MAX_ERRORS = 20;

/** A path kept as links to its parent, so walking a deeply nested value costs O(size), not O(size × depth). */
interface PathLink {
  key: string | number;
  parent: PathLink | undefined;
}

/** Walks a variable's JSON value without recursion (a 1 MiB body can nest deeper than the stack). */
function invalidTextInValue(root: unknown, rootPath: Path): FieldError[] {
  const errors: FieldError[] = [];
  const base = rootPath.reduce<PathLink | undefined>((parent, key) => ({ key, parent }), undefined);
  const pending: [unknown, PathLink | undefined][] = [[root, base]];
  while (pending.length > 0 && errors.length < MAX_ERRORS) {
    const [value, link] = pending.pop()!;
    if (typeof value === 'string') {
      if (!INVALID_TEXT.test(value)) continue;
      const field = dotted(unlink(link));
      errors.push({ field, messages: [invalidText(field, value)!] });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1)
        pending.push([value[index], { key: index, parent: link }]);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value).reverse()) pending.push([item, { key, parent: link }]);
    }
  }
  return errors;
}

/** Deeper than any input type nests: a longer path is cut, so a hostile body is not echoed back in the error. */
const MAX_PATH_SHOWN = 32;

function unlink(link: PathLink | undefined): Path {
  const path: Path = [];
  for (let current = link; current; current = current.parent) path.push(current.key);
  path.reverse();
  return path.length > MAX_PATH_SHOWN ? [...path.slice(0, MAX_PATH_SHOWN), '…'] : path;
}

function dotted(path: Path): string {
  return path.join('.');
}
