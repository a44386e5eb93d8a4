// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import 'reflect-metadata';
import { Length } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import type { ResolverData } from 'type-graphql';
import { checkedInCode, validateArgument } from '../../src/platform/graphql/argument-validation';

class Named {
  @Length(1, 5)
  name!: string;
}

class Unchecked {
  @Length(1, 5)
  name!: string;
}
checkedInCode(Unchecked);

/** A class with no class-validator decorators at all. */
class Bare {
  name!: string;
}

const named = (name: string) => Object.assign(new Named(), { name });
const data = {} as ResolverData;

describe('validateArgument (the schema validateFn)', () => {
  it('passes a valid input and skips scalars, null and undefined', async () => {
    await expect(validateArgument(named('ok'), Named, data)).resolves.toBeUndefined();
    await expect(validateArgument('a string', String, data)).resolves.toBeUndefined();
    await expect(validateArgument(null, Named, data)).resolves.toBeUndefined();
    await expect(validateArgument(undefined, Named, data)).resolves.toBeUndefined();
  });

  it('refuses an invalid input with ArgumentValidationError (answered BAD_USER_INPUT), without the value', async () => {
    const error = (await Promise.resolve(validateArgument(named('far too long'), Named, data)).catch(
      (caught: unknown) => caught,
    )) as ArgumentValidationError;
    expect(error).toBeInstanceOf(ArgumentValidationError);
    const [detail] = error.extensions.validationErrors as { property: string; value?: unknown; target?: unknown }[];
    expect(detail.property).toBe('name');
    expect(detail).not.toHaveProperty('value');
    expect(detail).not.toHaveProperty('target');
  });

  it('checks every object of a list', async () => {
    await expect(validateArgument([named('ok'), named('far too long')], Named, data)).rejects.toBeInstanceOf(
      ArgumentValidationError,
    );
    await expect(validateArgument([named('ok'), null], Named, data)).resolves.toBeUndefined();
  });

  it('refuses an object of a class with no rules (forbidUnknownValues), unless its type is checked in code', async () => {
    await expect(validateArgument(Object.assign(new Bare(), { name: 'x' }), Bare, data)).rejects.toBeInstanceOf(
      ArgumentValidationError,
    );
    await expect(
      validateArgument(Object.assign(new Unchecked(), { name: 'far too long' }), Unchecked, data),
    ).resolves.toBeUndefined();
  });
});
