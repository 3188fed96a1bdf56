import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { insertCheckins, type CheckinRow } from '../../db/queries/licensing.queries';
import { products, purchaseCodes } from '../../db/schema';
import type { Logger } from '../../logger';

const MAX_BUFFER = 100_000;
const BATCH = 1000;

/** One update check; `checkedAt` in epoch ms (a Date is made only when the row is written). */
export type Checkin = Omit<CheckinRow, 'id' | 'checks' | 'checkedAt'> & { checkedAt: number };
type Pending = Checkin & { checks: number };

/** Every recorded field but the time: checks equal on all of them become one row. */
const identity = (r: Checkin) => `${r.productId}\n${r.host ?? ''}\n${r.installedVersion ?? ''}\n${r.wpVersion ?? ''}\n${r.phpVersion ?? ''}\n${r.locale ?? ''}\n${r.codeId ?? ''}`;

/**
 * Update checks are recorded through this buffer and written in batches, so a check never waits
 * on a write. Identical checks within one flush become one row with a count (a site polling in a
 * loop costs one row, not thousands). A crash loses at most one flush interval; a failed flush is
 * retried next time.
 */
export class CheckinRecorder {
  private buffer = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Checks lost because the buffer was full or PostgreSQL refused their row. */
  dropped = 0;
  /** Checks written (a row with checks = 3 counts 3). */
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  // Folded at once, not queued for the flush: queued checks outlive the young generation and cost more in GC than the fold.
  record(row: Checkin): void {
    this.add(identity(row), row, 1);
  }

  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  private add(key: string, row: Checkin, checks: number): void {
    const known = this.buffer.get(key);
    if (known) {
      known.checks += checks;
      if (row.checkedAt > known.checkedAt) known.checkedAt = row.checkedAt;
      return;
    }
    if (this.buffer.size >= MAX_BUFFER) {
      const [oldest, lost] = this.buffer.entries().next().value as [string, Pending];
      this.buffer.delete(oldest);
      this.dropped += lost.checks;
    }
    this.buffer.set(key, { ...row, checks });
  }

  private async write(): Promise<void> {
    // Checks recorded while this flush runs go to a fresh buffer, so none is counted twice.
    const rows = [...this.buffer.values()];
    this.buffer = new Map();
    let done = 0;
    try {
      while (done < rows.length) {
        const batch = rows.slice(done, done + BATCH);
        if (!(await this.writeBatch(batch))) return;
        done += batch.length;
      }
    } finally {
      // Unwritten rows go back, merged with whatever arrived meanwhile.
      for (const row of rows.slice(done)) this.add(identity(row), row, row.checks);
    }
  }

  /** false: PostgreSQL is unreachable or failing; keep the batch for the next flush. */
  private async writeBatch(batch: Pending[]): Promise<boolean> {
    const total = (rows: Pending[]) => rows.reduce((n, r) => n + r.checks, 0);
    const insert = (rows: Pending[]) => insertCheckins(this.db, rows.map((r) => ({ ...r, checkedAt: new Date(r.checkedAt) })));
    try {
      await insert(batch);
      this.written += total(batch);
    } catch (err) {
      // A product or code deleted since the check breaks the batch: drop just those rows.
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code ?? '';
      if (code === '23503') {
        const kept = await this.withExistingRefs(batch).catch(() => null);
        if (!kept) return false;
        await insert(kept).then(
          () => (this.written += total(kept)),
          () => (this.dropped += total(kept)),
        );
      } else if (code.startsWith('22')) {
        // A row PostgreSQL refuses must not block the rest: write one by one, drop the bad ones.
        for (const row of batch) {
          await insert([row]).then(
            () => (this.written += row.checks),
            () => (this.dropped += row.checks),
          );
        }
      } else {
        this.logger.warn({ err: (err as Error).message, pending: this.buffer.size + batch.length }, 'checkins: flush failed; will retry');
        return false;
      }
    }
    return true;
  }

  private async withExistingRefs(batch: Pending[]): Promise<Pending[]> {
    const pids = [...new Set(batch.map((r) => r.productId))];
    const cids = [...new Set(batch.map((r) => r.codeId).filter((c): c is string => !!c))];
    const liveP = new Set((await this.db.select({ id: products.id }).from(products).where(inArray(products.id, pids))).map((r) => r.id));
    const liveC = cids.length ? new Set((await this.db.select({ id: purchaseCodes.id }).from(purchaseCodes).where(inArray(purchaseCodes.id, cids))).map((r) => r.id)) : new Set<string>();
    return batch.filter((r) => liveP.has(r.productId)).map((r) => (r.codeId && !liveC.has(r.codeId) ? { ...r, codeId: null } : r));
  }
}
