import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { JobQueue } from '../../../src/adapters/queue/job-queue';
import { openDatabase, type Database } from '../../../src/db/client';
import { migrate } from '../../../src/db/migrate';
import { createLogger } from '../../../src/logger';
import { seedPglite } from '../../support/pglite-template';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { DB_KINDS } from '../../support/db-kinds';

const logger = createLogger('silent');

async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(DB_KINDS)('job queue (%s)', (kind) => {
  let dir: string;
  let testDb: TestDatabase | undefined;
  let database: Database;
  const queues: JobQueue[] = [];

  const open = async () => {
    const url = testDb?.url;
    return openDatabase({ url, poolMax: 5, queryTimeoutMs: 3000, pglitePath: path.join(dir, 'pglite') }, logger);
  };
  const queue = (db: Database) => {
    const q = new JobQueue(db, logger);
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-jobs-'));
    // pg-boss's install on an empty database is covered by job-queue-install.postgres.test.ts; a migrated copy saves seconds.
    if (kind === 'postgres') testDb = await createTestDatabase();
    else await seedPglite(path.join(dir, 'pglite'));
    database = await open();
    await migrate(database, logger);
  });
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop();
  });
  afterAll(async () => {
    await database.close();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a job runs once with its data; a failing job is retried until it succeeds', async () => {
    const seen: string[] = [];
    let failures = 0;
    const q = queue(database);
    q.define<{ word: string }>('test.echo', { pollingIntervalSeconds: 0.5, handler: async (job) => void seen.push(job.data.word) });
    q.define<{ word: string }>('test.flaky', {
      pollingIntervalSeconds: 0.5,
      retryDelaySeconds: 1,
      handler: async (job) => {
        if (failures < 2) {
          failures++;
          throw new Error('provider answered 502');
        }
        seen.push(`${job.data.word}@${job.retryCount}`);
      },
    });
    await q.start();
    await q.send('test.echo', { word: 'hello' });
    await q.send('test.flaky', { word: 'third' });
    await until(() => seen.includes('hello') && seen.some((s) => s.startsWith('third@')), 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen.filter((s) => s === 'hello')).toHaveLength(1);
    expect(seen.filter((s) => s.startsWith('third@'))).toEqual(['third@2']);
    expect(failures).toBe(2);
  });

  test('a job queued inside a transaction exists only if the transaction commits', async () => {
    const seen: string[] = [];
    const q = queue(database);
    q.define<{ word: string }>('test.tx', { pollingIntervalSeconds: 0.5, handler: async (job) => void seen.push(job.data.word) });
    await q.start();
    await database.db.transaction(async (tx) => {
      await q.send('test.tx', { word: 'committed' }, { tx });
    });
    await database.db
      .transaction(async (tx) => {
        await q.send('test.tx', { word: 'rolled-back' }, { tx });
        await tx.execute(sql`select 1`);
        throw new Error('abort');
      })
      .catch(() => undefined);
    await until(() => seen.includes('committed'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen).toEqual(['committed']);
  });

  test('a singleton key keeps one waiting job per key', async () => {
    const q = queue(database);
    q.define('test.single', { policy: 'short', pollingIntervalSeconds: 60, handler: async () => undefined });
    await q.start();
    const first = await q.send('test.single', {}, { singletonKey: 'product-1', startAfterSeconds: 60 });
    const second = await q.send('test.single', {}, { singletonKey: 'product-1', startAfterSeconds: 60 });
    const other = await q.send('test.single', {}, { singletonKey: 'product-2', startAfterSeconds: 60 });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    expect(other).toEqual(expect.any(String));
  });

  test('a job whose server died mid-run is picked up by another server and completes once', async () => {
    const done: string[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const first = queue(database);
    let started = false;
    first.define<{ id: string }>('test.heavy', {
      pollingIntervalSeconds: 0.5,
      heartbeatSeconds: 10,
      handler: async () => {
        started = true;
        await stuck; // this "server" dies before finishing
      },
    });
    await first.start();
    await first.send('test.heavy', { id: 'build-1' });
    await until(() => started);
    // The dead server stops heartbeating; a second server (its own queue instance, same database) takes over.
    const dead = queues.splice(queues.indexOf(first), 1)[0]!;
    const stopping = dead.stop();
    const second = queue(database);
    second.define<{ id: string }>('test.heavy', { pollingIntervalSeconds: 0.5, heartbeatSeconds: 10, handler: async (job) => void done.push(job.data.id) });
    await second.start();
    await until(() => done.length > 0, 60_000);
    release();
    await stopping;
    await new Promise((r) => setTimeout(r, 1500));
    expect(done).toEqual(['build-1']);
  }, 90_000);
});
