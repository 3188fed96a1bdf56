import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../../src/db/client';
import { MIGRATION_LOCK_KEY, migrate, migrationsFolder } from '../../../src/db/migrate';
import { rowsOf } from '../../../src/db/rows';
import { createLogger } from '../../../src/logger';
import { createTestDatabase } from '../../support/postgres';

// PGlite has one session in one process: concurrent migrators exist only on a PostgreSQL server.
const logger = createLogger('silent');
const migrationCount = () => fs.readdirSync(migrationsFolder()).filter((f) => f.endsWith('.sql')).length;

test('several servers migrating one empty database at once apply each migration exactly once', async () => {
  const db = await createTestDatabase();
  const servers = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: db.url, poolMax: 2, queryTimeoutMs: 20000, pglitePath: '' }, logger)));
  try {
    const applied = await Promise.all(servers.map((s) => migrate(s, logger)));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(migrationCount());
    expect(applied.filter((n) => n > 0)).toHaveLength(1);
    const rows = rowsOf<{ n: string }>(await servers[0]!.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
    expect(Number(rows[0]!.n)).toBe(migrationCount());
    expect(await migrate(servers[0]!, logger)).toBe(0);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await db.drop();
  }
});

test('a server that starts while another holds the migration lock longer than its statement timeout waits, then applies each migration once', async () => {
  const db = await createTestDatabase();
  // 1 s of statement_timeout: a blocking lock wait would be cancelled (57014) long before the holder is done.
  const holder = await openDatabase({ url: db.url, poolMax: 2, queryTimeoutMs: 20000, pglitePath: '' }, logger);
  const starting = await openDatabase({ url: db.url, poolMax: 2, queryTimeoutMs: 1000, pglitePath: '' }, logger);
  try {
    let release!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((r) => (locked = r));
    const holding = holder.exclusively(MIGRATION_LOCK_KEY, async () => {
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await held;
    const migrating = migrate(starting, logger);
    await new Promise((r) => setTimeout(r, 3000));
    release();
    await holding;
    expect(await migrating).toBe(migrationCount());
    expect(await migrate(holder, logger)).toBe(0);
  } finally {
    await Promise.all([holder.close(), starting.close()]);
    await db.drop();
  }
});
