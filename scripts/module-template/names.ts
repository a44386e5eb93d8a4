/**
 * The names a module goes by, all derived from its kebab-case plural
 * (`time-entries`) and, where the rule below cannot tell, a given singular.
 *
 * The singular rule, applied to the last word only (`time-entries` -> `time-entry`):
 *   ...ies                       -> ...y     (entries -> entry, categories -> category)
 *   ...sses, ...xes, ...ches, ...shes -> drop "es" (addresses, boxes, batches, wishes)
 *   ...s (but not ...ss, ...us, ...is) -> drop "s"  (labels -> label)
 * Anything else (data, people, status, analysis) is not taken for a plural:
 * pass `--singular <word>`. Known misses, also fixed with --singular: movies,
 * caches, leaves, statuses, quizzes, series.
 */
export interface ModuleNames {
  /** `time-entries`: the folder, the module's name, file prefix of module-level files. */
  module: string;
  /** `time-entry`: file prefix of record-level files. */
  kebab: string;
  /** `TimeEntry`: the GraphQL type, class prefixes. */
  Name: string;
  /** `TimeEntries`: service and repository classes. */
  Names: string;
  /** `timeEntry`: the by-id query, variables. */
  name: string;
  /** `timeEntries`: the list query, the module's export. */
  names: string;
  /** `time_entries`: the table. */
  table: string;
  /** `time_entry`: event type prefix and subject type. */
  snake: string;
  /** `time entry`: prose. */
  words: string;
  /** `Time entry`: the start of a sentence, NotFoundError's subject. */
  Words: string;
}

/** Lower-case words joined by single hyphens, starting with a letter: ^[a-z][a-z0-9-]*$ without empty words. */
export const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The singular by the rule above, or undefined when the word does not look like a plural. */
export function singularOf(plural: string): string | undefined {
  const cut = plural.lastIndexOf('-') + 1;
  const [head, last] = [plural.slice(0, cut), plural.slice(cut)];
  let singular: string | undefined;
  if (/^.{2,}ies$/.test(last)) singular = `${last.slice(0, -3)}y`;
  else if (/(sses|xes|ches|shes)$/.test(last)) singular = last.slice(0, -2);
  else if (/[^sui]s$/.test(last)) singular = last.slice(0, -1);
  return singular ? head + singular : undefined;
}

const words = (kebab: string) => kebab.split('-');
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const pascal = (kebab: string) => words(kebab).map(capital).join('');
const camel = (kebab: string) =>
  words(kebab)
    .map((word, index) => (index === 0 ? word : capital(word)))
    .join('');

/** Every name of the module; `singular` as given (kebab-case), else by singularOf. Throws with the reason when there is none. */
export function moduleNames(module: string, singular?: string): ModuleNames {
  const kebab = singular ?? singularOf(module);
  if (!kebab) {
    throw new Error(
      `"${module}" does not look like a plural (see scripts/module-template/names.ts): name the record with --singular <word>`,
    );
  }
  if (!KEBAB.test(kebab))
    throw new Error(`--singular "${kebab}" must be kebab-case like the module name (^[a-z][a-z0-9-]*$)`);
  if (kebab === module)
    throw new Error(
      `The singular "${kebab}" must differ from the module name: the queries ${camel(kebab)}(id) and ${camel(module)}(...) need two names`,
    );
  return {
    module,
    kebab,
    Name: pascal(kebab),
    Names: pascal(module),
    name: camel(kebab),
    names: camel(module),
    table: words(module).join('_'),
    snake: words(kebab).join('_'),
    words: words(kebab).join(' '),
    Words: capital(words(kebab).join(' ')),
  };
}
