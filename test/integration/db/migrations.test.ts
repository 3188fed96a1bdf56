import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../../src/db/client';
import { migrate, migrationsFolder } from '../../../src/db/migrate';
import { EMBEDDED_SHARED_BUFFERS } from '../../../src/db/pglite-client';
import { rowsOf } from '../../../src/db/rows';
import { createLogger } from '../../../src/logger';

const logger = createLogger('silent');
const root = path.resolve(__dirname, '../../..');

test('the generated migrations match the schema (drizzle-kit generates nothing new)', () => {
  // drizzle-kit takes --out relative to the project, so the scratch copy lives inside it.
  fs.mkdirSync(path.join(root, '.tmp'), { recursive: true });
  const out = fs.mkdtempSync(path.join(root, '.tmp', 'drizzle-check-'));
  fs.cpSync(migrationsFolder(), out, { recursive: true });
  const before = fs.readdirSync(out).sort();
  const log = execFileSync(
    path.join(root, 'node_modules/.bin/drizzle-kit'),
    ['generate', '--dialect', 'postgresql', '--schema', './src/db/schema/index.ts', '--out', path.relative(root, out)],
    { cwd: root, encoding: 'utf8' },
  );
  const after = fs.readdirSync(out).sort();
  fs.rmSync(out, { recursive: true, force: true });
  expect(log).toMatch(/No schema changes/);
  expect({ files: after, log: after.length === before.length ? '' : log }).toEqual({ files: before, log: '' });
});

test('PGlite data survives a restart of the embedded database', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-pglite-'));
  const config = { url: undefined, poolMax: 1, queryTimeoutMs: 5000, pglitePath: dir };
  const first = await openDatabase(config, logger);
  await migrate(first, logger);
  await first.db.execute(sql`insert into users (email, password_hash) values ('keep@example.com', 'x')`);
  await first.close();
  const second = await openDatabase(config, logger);
  const rows = rowsOf<{ email: string }>(await second.db.execute(sql`select email from users`));
  expect(rows.map((r) => r.email)).toEqual(['keep@example.com']);
  expect(await migrate(second, logger)).toBe(0);
  // A laptop's database: small shared buffers (README, "Running Wharf").
  expect(rowsOf<{ shared_buffers: string }>(await second.db.execute(sql`show shared_buffers`))).toEqual([{ shared_buffers: EMBEDDED_SHARED_BUFFERS }]);
  await second.close();
  fs.rmSync(dir, { recursive: true, force: true });
}, 240_000); // two initdb-sized starts: generous, so a machine busy with a CPU burner still passes

test('a query against an unreachable database fails within our own deadline instead of hanging', async () => {
  const database = await openDatabase(
    { url: 'postgres://postgres@127.0.0.1:1,127.0.0.1:2/none?target_session_attrs=primary', poolMax: 1, queryTimeoutMs: 1500, pglitePath: '' },
    logger,
  );
  const started = Date.now();
  await expect(database.ping()).rejects.toThrow();
  // Without our deadline it would hang forever: any bound far above the ~2.5 s deadline will do.
  expect(Date.now() - started).toBeLessThan(30_000);
  await database.close().catch(() => undefined);
});
