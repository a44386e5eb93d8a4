import { BadUserInputError } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** An ID argument as the database stores it; BAD_USER_INPUT for anything that is not a UUID, so no malformed id reaches SQL. */
export function parseId(value: string, field: string): string {
  if (!isUuid(value)) throw BadUserInputError.field(field, `${field} must be a UUID`);
  return value.toLowerCase();
}
