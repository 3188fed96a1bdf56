import { JobQueue } from '../../../src/adapters/queue/job-queue';
import { openDatabase } from '../../../src/db/client';
import { migrate } from '../../../src/db/migrate';
import { createLogger } from '../../../src/logger';
import { createTestDatabase } from '../../support/postgres';

// Only a PostgreSQL server has several app servers starting at once on one empty database.
const logger = createLogger('silent');

test('three app servers starting their job queues together on an empty database all start, and a job still runs once', async () => {
  const db = await createTestDatabase();
  const servers = await Promise.all([1, 2, 3].map(() => openDatabase({ url: db.url, poolMax: 4, queryTimeoutMs: 20000, pglitePath: '' }, logger)));
  const ran: string[] = [];
  const queues = servers.map((s) => {
    const q = new JobQueue(s, logger);
    q.define<{ n: number }>('test.once', { pollingIntervalSeconds: 0.5, handler: async (job) => void ran.push(String(job.data.n)) });
    return q;
  });
  try {
    await Promise.all(servers.map((s) => migrate(s, logger)));
    const started = await Promise.allSettled(queues.map((q) => q.start()));
    expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started']);
    await queues[1]!.send('test.once', { n: 7 });
    const end = Date.now() + 20_000;
    while (ran.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    expect(ran).toEqual(['7']);
  } finally {
    for (const q of queues) await q.stop();
    await Promise.all(servers.map((s) => s.close()));
    await db.drop();
  }
});
