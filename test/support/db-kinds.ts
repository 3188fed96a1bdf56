import type { DbKind } from './app';

/**
 * The databases data-layer suites run on: `describe.each(DB_KINDS)`. The fast tier (`npm test`,
 * jest.config.js) needs no service, so PGlite only; the full tier (`npm run test:all`,
 * jest.full.config.js) adds the PostgreSQL server. Suites that only make sense on the server are
 * named `*.postgres.test.ts` and belong to the full tier alone.
 */
export const TEST_TIER: 'fast' | 'full' = (globalThis as { WHARF_TEST_TIER?: 'fast' | 'full' }).WHARF_TEST_TIER ?? 'fast';

export const DB_KINDS: DbKind[] = TEST_TIER === 'full' ? ['pglite', 'postgres'] : ['pglite'];
