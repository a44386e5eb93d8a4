/** Absolute paths of the test files CI's PostgreSQL pass leaves out (marked `@database-independent` or `@embedded-only`) under `dir` (the test folder by default). */
export function databaseIndependentFiles(dir?: string): string[];

/** Absolute paths of the test files under `dir` carrying `mark` (either mark when none is named). */
export function markedFiles(mark: 'database-independent' | 'embedded-only' | undefined, dir?: string): string[];
