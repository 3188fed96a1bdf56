import type { Storage } from '../../adapters/storage/storage';
import type { Db } from '../../db/client';
import * as q from '../../db/queries/products.queries';
import type { Logger } from '../../logger';

/** Past its policy's expiry no upload can arrive; the grace covers a finalize still running at that moment. */
export const SWEEP_GRACE_MS = 5 * 60_000;
const BATCH = 100;

/**
 * Deletes the objects and rows of upload slots past their expiry (finalized ones too: the vendor may
 * have posted to the slot again after finalize). Every app server may run it at once: deleting an
 * object or row twice is harmless, and a row goes only after its object is gone.
 */
export async function sweepExpiredUploads(db: Db, storage: Storage, logger: Logger, now = Date.now()): Promise<number> {
  const rows = await q.expiredUploads(db, new Date(now - SWEEP_GRACE_MS), BATCH);
  const gone: string[] = [];
  for (const row of rows) {
    try {
      await storage.delete(row.s3Key);
      gone.push(row.id);
    } catch (err) {
      logger.warn({ err: (err as Error).message, key: row.s3Key }, 'uploads: could not delete an expired upload; will retry');
    }
  }
  const deleted = await q.deleteUploads(db, gone);
  if (deleted) logger.info({ deleted }, 'uploads: swept expired upload slots');
  return deleted;
}
