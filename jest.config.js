/** @type {import('jest').Config} */
const fs = require('node:fs');
const { env } = require('node:process');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));

const { databaseIndependentFiles } = require('./test/support/database-independent');

// Node's compile cache (V8 code of the CommonJS modules a process loaded, by content) for the processes the suite
// starts, which take it through inheritedEnv() (test/support/child-process.ts): each start of the app through
// @swc-node/register costs a third less CPU once one has run. Nothing in it changes what a process does.
env.NODE_COMPILE_CACHE ??= require('node:path').join(require('node:os').tmpdir(), 'groundwork-node-compile-cache');

// TEST_DATABASE_DEPENDENT_ONLY=1 (CI's second pass, on PostgreSQL and Redis) leaves out the database-independent
// files: they answer the same on every database, and the first pass (PGlite) ran them.
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const skipped = env.TEST_DATABASE_DEPENDENT_ONLY === '1' ? databaseIndependentFiles().map(escapeRegExp) : [];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...skipped],
  setupFiles: ['reflect-metadata'],
  // PGlite's CommonJS build calls import(): let swc turn it into require() under jest.
  transform: { '^.+\\.c?(t|j)sx?$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  // cookie (used by fastify.inject) is ESM-only.
  transformIgnorePatterns: ['/node_modules/(?!(@electric-sql|cookie)/)'],
  // A hang detector, not a speed limit: tests wait on conditions, and a loaded machine runs them several times slower.
  testTimeout: 120000,
  // A worker holding PGlite's WebAssembly heaps needs more than jest's default 500 ms to exit on a loaded 2-core
  // machine, which then prints "A worker process has failed to exit gracefully". A handle that never closes still shows.
  workerGracefulExitTimeout: 10000,
  maxWorkers: 2,
};
