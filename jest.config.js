/** @type {import('jest').Config} */
const fs = require('node:fs');
const swcrc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
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
