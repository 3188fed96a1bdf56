import path from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Logger } from '../logger';
import type { Database } from './client';
import { rowsOf } from './rows';

// Any fixed 64-bit number; every app server agrees on it.
export const MIGRATION_LOCK_KEY = 7_305_331_911;

export function migrationsFolder(): string {
  // drizzle/ sits at the project root, both from src/db (jest) and dist/src/db (built).
  const up = __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..';
  return path.resolve(__dirname, up, 'drizzle');
}

/**
 * Apply pending migrations in one transaction while holding the migration lock (a session lock,
 * waited for without a statement timeout), so servers starting together never race: the ones that
 * waited find nothing to do, however long the first one's migrations took.
 */
export async function migrate(database: Pick<Database, 'db' | 'exclusively'>, logger: Logger): Promise<number> {
  const files = readMigrationFiles({ migrationsFolder: migrationsFolder() });
  return database.exclusively(MIGRATION_LOCK_KEY, () =>
    database.db.transaction(async (tx) => {
      await tx.execute(sql`create schema if not exists drizzle`);
      await tx.execute(
        sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
      );
      const applied = await tx.execute(sql`select hash from drizzle.__drizzle_migrations`);
      const done = new Set(rowsOf<{ hash: string }>(applied).map((r) => r.hash));
      let count = 0;
      for (const m of files) {
        if (done.has(m.hash)) continue;
        for (const statement of m.sql) {
          if (statement.trim()) await tx.execute(sql.raw(statement));
        }
        await tx.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${m.hash}, ${m.folderMillis})`);
        count++;
      }
      if (count) logger.info({ applied: count }, 'database: migrations applied');
      return count;
    }),
  );
}
