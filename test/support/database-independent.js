// Which test files answer the same on every database CI runs the suite on: read by jest.config.js (CI's second pass,
// on PostgreSQL and Redis, leaves them out: the first pass ran them) and by test/ci/database-independent.test.ts
// (which checks each mark is true). Two marks, in a file's first lines (`// @mark` or ` * @mark` in a doc comment):
// - @database-independent: the file touches no database and no Redis;
// - @embedded-only: its databases are embedded PGlite of its own choosing, whatever TEST_DATABASE_URL says.
// Plain CommonJS: jest's config loads it as is.
const fs = require('node:fs');
const path = require('node:path');

const MARKS = {
  'database-independent': /^\s*(\/\/|\*) @database-independent\b/m,
  'embedded-only': /^\s*(\/\/|\*) @embedded-only\b/m,
};

/** Absolute paths of the test files under `dir` carrying `mark` (either mark when none is named). */
function markedFiles(mark, dir = path.join(__dirname, '..')) {
  const patterns = mark ? [MARKS[mark]] : Object.values(MARKS);
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return markedFiles(mark, file);
    if (!entry.name.endsWith('.test.ts')) return [];
    const head = fs.readFileSync(file, 'utf8').slice(0, 2000);
    return patterns.some((pattern) => pattern.test(head)) ? [file] : [];
  });
}

/** The files CI's PostgreSQL pass leaves out: both marks. */
function databaseIndependentFiles(dir) {
  return markedFiles(undefined, dir);
}

module.exports = { databaseIndependentFiles, markedFiles };
