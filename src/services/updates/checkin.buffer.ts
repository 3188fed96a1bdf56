import type { CheckinRow } from '../../db/queries/checkins.queries';

/** One update check; `checkedAt` in epoch ms (a Date is made only when the row is written). */
export type Checkin = Omit<CheckinRow, 'id' | 'checks' | 'checkedAt'> & { checkedAt: number };
export type PendingCheckin = Checkin & { checks: number };

/** Every recorded field but the time: checks equal on all of them become one row. */
const identity = (r: Checkin) => `${r.productId}\n${r.host ?? ''}\n${r.installedVersion ?? ''}\n${r.wpVersion ?? ''}\n${r.phpVersion ?? ''}\n${r.locale ?? ''}\n${r.codeId ?? ''}\n${r.license ?? ''}`;

/**
 * Check-ins waiting for the next flush, identical ones folded into one row with a count (a site
 * polling in a loop costs one row, not thousands), bounded: past `max` rows the oldest is dropped.
 */
export class CheckinBuffer {
  private rows = new Map<string, PendingCheckin>();
  /** Checks lost because the buffer was full. */
  dropped = 0;

  constructor(private readonly max = 100_000) {}

  get size(): number {
    return this.rows.size;
  }

  add(row: Checkin, checks = 1): void {
    const key = identity(row);
    const known = this.rows.get(key);
    if (known) {
      known.checks += checks;
      if (row.checkedAt > known.checkedAt) known.checkedAt = row.checkedAt;
      return;
    }
    if (this.rows.size >= this.max) {
      const [oldest, lost] = this.rows.entries().next().value as [string, PendingCheckin];
      this.rows.delete(oldest);
      this.dropped += lost.checks;
    }
    this.rows.set(key, { ...row, checks });
  }

  /** Everything buffered; checks recorded from now on start a fresh buffer, so none is written twice. */
  take(): PendingCheckin[] {
    const rows = [...this.rows.values()];
    this.rows = new Map();
    return rows;
  }

  /** Rows a flush could not write go back, merged with whatever arrived meanwhile. */
  putBack(rows: PendingCheckin[]): void {
    for (const row of rows) this.add(row, row.checks);
  }
}
