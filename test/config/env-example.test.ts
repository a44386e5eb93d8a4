// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaredVariables } from '../../src/config/environment';
import { CONFIG_GROUPS } from '../../src/config/groups';

interface ExampleLine {
  name: string;
  value: string;
  commentedOut: boolean;
}

/** The `NAME=value` and commented-out `# NAME=value` lines of .env.example. */
function exampleLines(): ExampleLine[] {
  const text = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
  return text.split('\n').flatMap((line) => {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    return match ? [{ name: match[2], value: match[3], commentedOut: match[1] !== undefined }] : [];
  });
}

const declared = CONFIG_GROUPS.flatMap(declaredVariables);
const listed = exampleLines();
const listedNames = listed.map((line) => line.name);

describe('.env.example', () => {
  it('lists every variable the config groups declare', () => {
    expect(declared.filter((name) => !listedNames.includes(name))).toEqual([]);
  });

  it('lists no variable the config groups do not declare', () => {
    expect(listedNames.filter((name) => !declared.includes(name))).toEqual([]);
  });

  it('lists each variable once', () => {
    expect(listedNames.filter((name, index) => listedNames.indexOf(name) !== index)).toEqual([]);
  });

  it('shows the default of each variable that has one, and comments out those without', () => {
    const defaults: Record<string, string | number | boolean | undefined> = Object.assign(
      {},
      ...CONFIG_GROUPS.map((group) => new group()),
    );
    const expected = Object.fromEntries(
      listed.map(({ name }) => [name, defaults[name] === undefined ? undefined : String(defaults[name])]),
    );
    const shown = Object.fromEntries(
      listed.map(({ name, value, commentedOut }) => [name, commentedOut ? undefined : value]),
    );
    expect(shown).toEqual(expected);
  });
});

describe('the config groups', () => {
  it('give every field a validation rule and a default, so that each is read and listed', () => {
    for (const group of CONFIG_GROUPS) {
      expect({ group: group.name, fields: Object.keys(new group()) }).toEqual({
        group: group.name,
        fields: declaredVariables(group),
      });
    }
  });

  it('declare each variable in one group only', () => {
    expect(declared.filter((name, index) => declared.indexOf(name) !== index)).toEqual([]);
  });
});
