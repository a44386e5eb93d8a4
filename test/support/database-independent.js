// Which test files touch no database and no Redis: read by jest.config.js (CI's second pass leaves them out) and by
// test/ci/database-independent.test.ts (which checks the mark is true). Plain CommonJS: jest's config loads it as is.
const fs = require('node:fs');
const path = require('node:path');

/** The mark, in a file's first lines: `// @database-independent` or ` * @database-independent` in a doc comment. */
const INDEPENDENT_MARK = /^\s*(\/\/|\*) @database-independent\b/m;

/** Absolute paths of the marked test files under `dir`. */
function databaseIndependentFiles(dir = path.join(__dirname, '..')) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return databaseIndependentFiles(file);
    if (!entry.name.endsWith('.test.ts')) return [];
    return INDEPENDENT_MARK.test(fs.readFileSync(file, 'utf8').slice(0, 2000)) ? [file] : [];
  });
}

module.exports = { databaseIndependentFiles };
