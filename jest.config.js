/**
 * `npm test`: the fast tier, everything that needs no system service (unit tests, and the
 * integration suites on PGlite and the embedded S3). `npm run test:all` (jest.full.config.js)
 * runs every suite with the real services. Jest runs TypeScript through SWC (no type check:
 * `npm run typecheck` does that with tsc 7).
 */

/** Suites that need a system service; they run in the full tier only (never skipped). */
const SERVICE_SUITES = [
  '<rootDir>/test/e2e/', // Chromium; WordPress, MariaDB and PHP
  '<rootDir>/test/integration/deploy/', // nginx, Patroni + etcd, memcached, HAProxy, docker
  '<rootDir>/test/integration/php/', // the PHP CLI
  '<rootDir>/test/integration/cache/memcached-cache\\.test\\.ts$', // memcached
  '\\.postgres\\.test\\.ts$', // the PostgreSQL server (suites with no PGlite counterpart)
];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...SERVICE_SUITES],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.js',
  // Read by test/support/db-kinds.ts: PGlite only here.
  globals: { WHARF_TEST_TIER: 'fast' },
};
