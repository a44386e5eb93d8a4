import { Field, type ClassType, type FieldOptions } from 'type-graphql';

type ReturnTypeFunc = NonNullable<Parameters<typeof Field>[0]>;

/**
 * Adds a field, with its validation rules, to an input type another module
 * owns (a filter, say), the way the decorators would have declared it. Call
 * it at module load: type-graphql reads its metadata when the schema is built.
 */
export function addInputField(
  inputType: ClassType,
  name: string,
  type: ReturnTypeFunc,
  options: FieldOptions,
  rules: PropertyDecorator[] = [],
): void {
  Field(type, options)(inputType.prototype, name);
  for (const rule of rules) rule(inputType.prototype, name);
}
