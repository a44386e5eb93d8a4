import { readFileSync } from 'node:fs';
import { getMetadataStorage, validateSync } from 'class-validator';

export type Environment = Record<string, string | undefined>;

/** A settings group: a class whose fields are its variables, each with class-validator rules and a default. */
export type ConfigGroup = new () => object;

type Kind = 'number' | 'boolean';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** The variables a group declares, read off its validation rules so that the rules are the only list. */
export function declaredVariables(group: ConfigGroup): string[] {
  return [...new Set(rulesOf(group).map((rule) => rule.propertyName))];
}

/** A group's defaults overridden by what the environment sets, coerced but not yet validated; read problems go to `problems`. */
export function readGroup(group: ConfigGroup, env: Environment, problems: string[]): object {
  const settings = new group();
  const fields = settings as Record<string, unknown>;
  const kinds = declaredKinds(group);
  for (const name of declaredVariables(group)) {
    const raw = readVariable(env, name, problems);
    if (raw !== undefined) fields[name] = coerce(raw, kinds.get(name));
  }
  return settings;
}

/** Every rule a group's values break, each message starting with the variable's name. */
export function validationProblems(settings: object): string[] {
  return validateSync(settings, { forbidUnknownValues: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}),
  );
}

function rulesOf(group: ConfigGroup) {
  return getMetadataStorage().getTargetValidationMetadatas(group, '', true, false);
}

function readVariable(env: Environment, name: string, problems: string[]): string | undefined {
  const filePath = env[`${name}_FILE`];
  if (filePath && env[name] !== undefined) {
    problems.push(`${name} and ${name}_FILE are both set; set only one`);
    return undefined;
  }
  if (!filePath) return env[name] === '' ? undefined : env[name];
  try {
    return readFileSync(filePath, 'utf8').trim();
  } catch (error) {
    problems.push(`${name}_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${filePath})`);
    return undefined;
  }
}

/** The type each variable converts to, read off its validation decorators (@IsInt, @IsBoolean), so it is declared once. */
function declaredKinds(group: ConfigGroup): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  for (const rule of rulesOf(group)) {
    if (rule.name === 'isInt') kinds.set(rule.propertyName, 'number');
    if (rule.name === 'isBoolean') kinds.set(rule.propertyName, 'boolean');
  }
  return kinds;
}

/** Turns the raw string into the declared type; a value that does not convert is left for validation to reject. */
function coerce(raw: string, kind: Kind | undefined): unknown {
  const text = raw.trim();
  if (kind === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : raw;
  if (kind === 'boolean') {
    const word = text.toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return raw;
  }
  return raw;
}
