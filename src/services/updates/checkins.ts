import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { insertCheckins, type CheckinRow } from '../../db/queries/licensing.queries';
import { products, purchaseCodes } from '../../db/schema';
import type { Logger } from '../../logger';

const MAX_BUFFER = 100_000;
const BATCH = 1000;

/**
 * Update checks are recorded through this buffer and written in batches, so a check never waits
 * on a write. A crash loses at most one flush interval; a failed flush is retried next time.
 */
export class CheckinRecorder {
  private buffer: CheckinRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;
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

  record(row: CheckinRow): void {
    if (this.buffer.length >= MAX_BUFFER) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(row);
  }

  get pending(): number {
    return this.buffer.length;
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
    while (this.buffer.length) {
      const batch = this.buffer.slice(0, BATCH);
      try {
        await insertCheckins(this.db, batch);
      } catch (err) {
        // A product or code deleted since the check breaks the batch: drop just those rows.
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code ?? '';
        if (code === '23503') {
          const kept = await this.withExistingRefs(batch);
          await insertCheckins(this.db, kept).catch(() => undefined);
        } else if (code.startsWith('22')) {
          // A row PostgreSQL refuses must not block the rest: write one by one, drop the bad ones.
          for (const row of batch) await insertCheckins(this.db, [row]).catch(() => this.dropped++);
        } else {
          this.logger.warn({ err: (err as Error).message, pending: this.buffer.length }, 'checkins: flush failed; will retry');
          return;
        }
      }
      this.buffer.splice(0, batch.length);
      this.written += batch.length;
    }
  }

  private async withExistingRefs(batch: CheckinRow[]): Promise<CheckinRow[]> {
    const pids = [...new Set(batch.map((r) => r.productId))];
    const cids = [...new Set(batch.map((r) => r.codeId).filter((c): c is string => !!c))];
    const liveP = new Set((await this.db.select({ id: products.id }).from(products).where(inArray(products.id, pids))).map((r) => r.id));
    const liveC = cids.length ? new Set((await this.db.select({ id: purchaseCodes.id }).from(purchaseCodes).where(inArray(purchaseCodes.id, cids))).map((r) => r.id)) : new Set<string>();
    return batch.filter((r) => liveP.has(r.productId)).map((r) => (r.codeId && !liveC.has(r.codeId) ? { ...r, codeId: null } : r));
  }
}
