import { createHash } from 'node:crypto';
import type { Storage } from '../../adapters/storage/storage';
import type { Db } from '../../db/client';
import * as q from '../../db/queries/products.queries';
import { compareVersions } from '../../lib/version-compare';
import type { Logger } from '../../logger';
import { ZipArchive, ZipFormatError, type ZipEntry } from '../packages/zip-archive';
import { ZipStreamVerifier, ZipVerificationError } from '../packages/zip-verifier';
import { recordEvent } from '../events/event-outbox';
import { productRef } from '../events/event-data';

/** What the pass needs of the file list; finalize hands over the one it read, a resumed pass reads it again. */
export interface FileList {
  entries: readonly ZipEntry[];
  centralDirectoryOffset: number;
}

const HEARTBEAT_MS = 5_000;
/** No heartbeat for this long: the server running the pass is gone, and another takes it over. */
export const STALE_MS = 2 * 60_000;
/** A pass that keeps failing for reasons other than the zip (storage down, a bug) gives up after this many tries. */
export const MAX_ATTEMPTS = 5;

/**
 * The deep verification pass of a release (see zip-verifier), in the same single stream as its
 * SHA-256. Success makes the version ready (and live when it is newer than the live one); a refusal
 * records the reasons and deletes the object; anything else leaves it `verifying` for another try.
 */
export class ReleaseVerifier {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly onChanged: (productId: string) => void,
  ) {}

  start(version: q.VersionRow, list?: FileList): Promise<void> {
    const existing = this.running.get(version.id);
    if (existing) return existing;
    const job = this.run(version, list).finally(() => this.running.delete(version.id));
    this.running.set(version.id, job);
    return job;
  }

  /** Waits for the passes started by this process (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** Waits up to timeoutMs for this process's pass of a version; true when none is running any more. */
  async settled(versionId: string, timeoutMs: number): Promise<boolean> {
    const job = this.running.get(versionId);
    if (!job) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([job.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    return done;
  }

  /** Passes a crash or restart left unfinished; every server may run this, a claim decides who resumes which. */
  async resumeStale(limit = 3, now = Date.now()): Promise<number> {
    const olderThan = new Date(now - STALE_MS);
    let resumed = 0;
    for (const { id } of await q.staleVerifications(this.db, olderThan, limit)) {
      if (this.running.has(id)) continue;
      const claimed = await q.claimVerification(this.db, id, olderThan);
      if (!claimed) continue;
      resumed++;
      if (claimed.verifyAttempts > MAX_ATTEMPTS) {
        await this.refuse(claimed, [`The zip could not be verified after ${MAX_ATTEMPTS} attempts; upload it again.`]);
        continue;
      }
      this.logger.info({ versionId: id, attempt: claimed.verifyAttempts }, 'release: resuming verification');
      await this.start(claimed);
    }
    return resumed;
  }

  private async run(version: q.VersionRow, list?: FileList): Promise<void> {
    const started = Date.now();
    try {
      const files = list ?? (await ZipArchive.open({ size: version.size, read: (offset, length) => this.storage.readRange(version.s3Key, offset, length) }));
      const verifier = new ZipStreamVerifier(files.entries, files.centralDirectoryOffset);
      const hash = createHash('sha256');
      let beat = Date.now();
      const total = await this.storage.scan(version.s3Key, async (chunk) => {
        hash.update(chunk);
        await verifier.write(chunk);
        if (Date.now() - beat > HEARTBEAT_MS) {
          beat = Date.now();
          void q.verificationHeartbeat(this.db, version.id, verifier.bytesSeen).catch((err: Error) => this.logger.warn({ err: err.message }, 'release: heartbeat failed'));
        }
      });
      await verifier.end();
      if (total !== version.size) throw new ZipVerificationError(`The stored zip is ${total} bytes, not the ${version.size} recorded at upload.`);
      await this.accept(version, hash.digest('hex'), Date.now() - started);
    } catch (err) {
      if (err instanceof ZipVerificationError || err instanceof ZipFormatError) {
        await this.refuse(version, [err.message]);
        return;
      }
      this.logger.warn({ err: (err as Error).message, versionId: version.id }, 'release: verification interrupted; it will be resumed');
    }
  }

  private async accept(version: q.VersionRow, sha256: string, ms: number): Promise<void> {
    const live = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const product = await q.lockProduct(t, version.productId);
      const ready = product && (await q.markVersionReady(t, version.id, sha256));
      if (!product || !ready) return null;
      // A newer release goes live; backfilling an older one leaves the live version alone.
      const current = product.liveVersionId ? await q.findVersion(t, product.id, product.liveVersionId) : undefined;
      const goesLive = !current || compareVersions(ready.version, current.version) > 0;
      if (goesLive) await q.setLiveVersion(t, product.id, ready.id);
      else await q.bumpRevision(t, product.id);
      await recordEvent(t, { userId: product.userId, productId: product.id, type: 'release.published', data: { product: productRef(product), version: ready.version, live: goesLive } });
      return goesLive;
    });
    if (live === null) return; // deleted (or decided elsewhere) while it was being read
    this.onChanged(version.productId);
    this.logger.info({ productId: version.productId, version: version.version, live, ms }, 'release: verified');
  }

  private async refuse(version: q.VersionRow, reasons: string[]): Promise<void> {
    const row = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const refused = await q.markVersionRefused(t, version.id, reasons);
      const product = refused && (await q.findProduct(t, refused.productId));
      if (product) await recordEvent(t, { userId: product.userId, productId: product.id, type: 'release.refused', data: { product: productRef(product), version: refused.version, reasons } });
      return refused;
    });
    if (!row) return;
    await this.storage.delete(version.s3Key).catch((err: Error) => this.logger.warn({ err: err.message, key: version.s3Key }, 'storage: could not delete refused object'));
    this.logger.info({ productId: version.productId, version: version.version, reasons }, 'release: refused by verification');
  }
}
