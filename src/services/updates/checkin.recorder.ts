import type { Db } from '../../db/client';
import { existingRefs, insertCheckins } from '../../db/queries/checkins.queries';
import type { Logger } from '../../logger';
import { CheckinBuffer, type Checkin, type PendingCheckin } from './checkin.buffer';

export type { Checkin } from './checkin.buffer';

const BATCH = 1000;
const total = (rows: PendingCheckin[]) => rows.reduce((n, r) => n + r.checks, 0);

/**
 * Update checks are recorded through a buffer and written in batches, so a check never waits on
 * a write. A crash loses at most one flush interval; a failed flush is retried next time.
 */
export class CheckinRecorder {
  private readonly buffer: CheckinBuffer;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private refused = 0;
  /** Checks written (a row with checks = 3 counts 3). */
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    maxBuffered = 100_000,
  ) {
    this.buffer = new CheckinBuffer(maxBuffered);
  }

  /** Checks lost because the buffer was full or PostgreSQL refused their row. */
  get dropped(): number {
    return this.buffer.dropped + this.refused;
  }

  get pending(): number {
    return this.buffer.size;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  // Folded at once, not queued for the flush: queued checks outlive the young generation and cost more in GC than the fold.
  record(row: Checkin): void {
    this.buffer.add(row);
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

  private async write(): Promise<void> {
    const rows = this.buffer.take();
    let done = 0;
    try {
      while (done < rows.length) {
        const batch = rows.slice(done, done + BATCH);
        if (!(await this.writeBatch(batch))) return;
        done += batch.length;
      }
    } finally {
      this.buffer.putBack(rows.slice(done));
    }
  }

  /** false: PostgreSQL is unreachable or failing; keep the batch for the next flush. */
  private async writeBatch(batch: PendingCheckin[]): Promise<boolean> {
    const insert = (rows: PendingCheckin[]) => insertCheckins(this.db, rows.map((r) => ({ ...r, checkedAt: new Date(r.checkedAt) })));
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
          () => (this.refused += total(kept)),
        );
      } else if (code.startsWith('22')) {
        // A row PostgreSQL refuses must not block the rest: write one by one, drop the bad ones.
        for (const row of batch) {
          await insert([row]).then(
            () => (this.written += row.checks),
            () => (this.refused += row.checks),
          );
        }
      } else {
        this.logger.warn({ err, pending: this.buffer.size + batch.length }, 'checkins: flush failed; will retry');
        return false;
      }
    }
    return true;
  }

  private async withExistingRefs(batch: PendingCheckin[]): Promise<PendingCheckin[]> {
    const pids = [...new Set(batch.map((r) => r.productId))];
    const cids = [...new Set(batch.map((r) => r.codeId).filter((c): c is string => !!c))];
    const live = await existingRefs(this.db, pids, cids);
    return batch.filter((r) => live.products.has(r.productId)).map((r) => (r.codeId && !live.codes.has(r.codeId) ? { ...r, codeId: null } : r));
  }
}
