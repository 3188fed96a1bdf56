import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../../src/db/client';
import { migrate } from '../../../src/db/migrate';
import { rowsOf } from '../../../src/db/rows';
import { createLogger } from '../../../src/logger';
import { CheckinRecorder, type Checkin } from '../../../src/services/updates/checkin.recorder';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { DB_KINDS } from '../../support/db-kinds';

const logger = createLogger('silent');

describe.each(DB_KINDS)('check-in recorder on %s: a failed flush keeps its rows and merges them into the next', (kind) => {
  let database: Database;
  let server: TestDatabase | undefined;
  let productId: string;
  let goneProductId: string;

  beforeAll(async () => {
    server = kind === 'postgres' ? await createTestDatabase() : undefined;
    database = await openDatabase({ url: server?.url, pglitePath: 'memory://', poolMax: 2, queryTimeoutMs: 3000 }, logger);
    await migrate(database, logger);
    const db = database.db;
    const user = rowsOf<{ id: string }>(await db.execute(sql`insert into users (email, password_hash) values ('c@example.com', 'x') returning id`))[0]!;
    const mk = async (slug: string) => rowsOf<{ id: string }>(await db.execute(sql`insert into products (user_id, type, slug, name) values (${user.id}, 'plugin', ${slug}, ${slug}) returning id`))[0]!.id;
    productId = await mk('kept');
    goneProductId = await mk('gone');
  }, 60_000);

  afterAll(async () => {
    await database?.close();
    await server?.drop();
  });

  const check = (over: Partial<Checkin> = {}): Checkin => ({ productId, host: 'a.example', installedVersion: '1.0', wpVersion: '6.5', phpVersion: '8.2', locale: 'en_US', codeId: null, checkedAt: Date.parse('2026-12-01T10:00:00Z'), ...over });
  const written = async () => rowsOf<{ host: string; checks: number }>(await database.db.execute(sql`select host, checks from checkins order by host`)).map((r) => `${r.host} ×${r.checks}`);

  test('the table gone for a while: nothing lost, nothing doubled', async () => {
    const recorder = new CheckinRecorder(database.db, 60_000, logger);
    await database.db.execute(sql`alter table checkins rename to checkins_away`);
    for (let i = 0; i < 3; i++) recorder.record(check());
    recorder.record(check({ host: 'b.example' }));
    await recorder.flush(); // fails: kept
    expect([recorder.written, recorder.pending]).toEqual([0, 2]);
    recorder.record(check({ checkedAt: Date.parse('2026-12-01T10:05:00Z') }));
    await recorder.flush(); // fails again: merged with the new check
    expect(recorder.pending).toBe(2);
    await database.db.execute(sql`alter table checkins_away rename to checkins`);
    await recorder.flush();
    expect(await written()).toEqual(['a.example ×4', 'b.example ×1']);
    expect([recorder.written, recorder.pending, recorder.dropped]).toEqual([5, 0, 0]);
    const latest = rowsOf<{ t: string }>(await database.db.execute(sql`select max(checked_at)::text as t from checkins where host = 'a.example'`))[0]!.t;
    expect(new Date(latest.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString()).toBe('2026-12-01T10:05:00.000Z');
  });

  test('a batch naming a deleted product writes the rest', async () => {
    await database.db.execute(sql`delete from checkins`);
    const recorder = new CheckinRecorder(database.db, 60_000, logger);
    recorder.record(check({ host: 'c.example' }));
    recorder.record(check({ productId: goneProductId, host: 'd.example' }));
    await database.db.execute(sql`delete from products where id = ${goneProductId}`);
    await recorder.flush();
    expect(await written()).toEqual(['c.example ×1']);
    expect(recorder.pending).toBe(0);
  });
});
