import crypto from 'node:crypto';
import postgres from 'postgres';
import { TEST_TIER } from './db-kinds';

/** The PostgreSQL server tests use; CI installs and starts it (see .ci/run). */
export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the real server for one test file. Fails (never skips) if unreachable. */
export async function createTestDatabase(prefix = 'wharf_test'): Promise<TestDatabase> {
  if (TEST_TIER !== 'full') {
    // Keeps the tiers honest: `npm test` must pass on a machine with no PostgreSQL server.
    throw new Error('this suite needs the PostgreSQL server, which the fast tier (npm test) has not: use DB_KINDS from test/support/db-kinds.ts, or name the file *.postgres.test.ts (full tier only)');
  }
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    await admin.end();
    throw new Error(`PostgreSQL server not reachable at ${ADMIN_URL} (start it, or set TEST_POSTGRES_URL): ${(err as Error).message}`);
  }
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
