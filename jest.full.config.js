/** `npm run test:all`: every suite, with the real services (see README "Tests"); a missing one fails. */
const fast = require('./jest.config.js');

module.exports = {
  ...fast,
  testPathIgnorePatterns: ['/node_modules/'],
  // Read by test/support/db-kinds.ts: data-layer suites run on PGlite and the PostgreSQL server.
  globals: { WHARF_TEST_TIER: 'full' },
};
