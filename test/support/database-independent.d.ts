/** Absolute paths of the test files marked `@database-independent` under `dir` (the test folder by default). */
export function databaseIndependentFiles(dir?: string): string[];
