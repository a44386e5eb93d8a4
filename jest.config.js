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
  maxWorkers: 2,
};
