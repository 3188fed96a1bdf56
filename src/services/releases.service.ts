import crypto from 'node:crypto';
import type { Storage } from '../adapters/storage/storage';
import type { Db } from '../db/client';
import * as q from '../db/queries/products.queries';
import type { StoredReadme } from '../db/schema';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { isUuid } from '../lib/validation';
import { compareVersions } from '../lib/version-compare';
import type { Logger } from '../logger';
import { inspectPackage, PackageRejectedError, type PackageInfo } from './packages/package-inspector';
import type { RangeReader } from './packages/range-reader';
import type { ProductsService } from './products.service';

export type Version = q.VersionRow;

export interface ReleaseLimits {
  maxBytes: number;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
}

const PRESIGN_SECONDS = 15 * 60;

/** The upload → finalize pipeline, read top to bottom: HEAD, inspect by range, record; then checksum. */
export class ReleasesService {
  private readonly hashing = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly products: ProductsService,
    private readonly limits: ReleaseLimits,
    private readonly logger: Logger,
    private readonly onChanged: (productId: string) => void = () => undefined,
  ) {}

  /** A presigned POST for one new object under the vendor's and product's prefix. */
  async presignUpload(userId: string, productId: string, opts: { successRedirect?: (uploadId: string) => string } = {}) {
    const product = await this.products.get(userId, productId);
    const uploadId = crypto.randomUUID();
    const key = `vendors/${userId}/products/${product.id}/releases/${uploadId}.zip`;
    const expiresAt = new Date(Date.now() + PRESIGN_SECONDS * 1000);
    await q.insertUpload(this.db, { id: uploadId, productId: product.id, s3Key: key, expiresAt });
    const post = await this.storage.presignPost({
      key,
      maxBytes: this.limits.maxBytes,
      expiresSeconds: PRESIGN_SECONDS,
      contentType: 'application/zip',
      ...(opts.successRedirect ? { successRedirect: opts.successRedirect(uploadId) } : {}),
    });
    return { uploadId, key, url: post.url, fields: post.fields, expiresAt, maxBytes: this.limits.maxBytes };
  }

  async findUpload(userId: string, productId: string, ref: { uploadId?: string; key?: string }) {
    const product = await this.products.get(userId, productId);
    const upload = ref.uploadId
      ? isUuid(ref.uploadId) && await q.findUpload(this.db, product.id, ref.uploadId)
      : ref.key
        ? await q.findUploadByKey(this.db, product.id, ref.key)
        : undefined;
    if (!upload) throw new NotFoundError('No such upload');
    return { product, upload };
  }

  async finalize(userId: string, productId: string, ref: { uploadId?: string; key?: string }): Promise<Version> {
    const { product, upload } = await this.findUpload(userId, productId, ref);
    if (upload.status === 'refused') throw new ValidationError(`This upload was refused: ${(upload.reasons ?? []).join(' ')}`);
    if (upload.status === 'finalized') throw new ConflictError('This upload was already released.', 'already_finalized');

    const head = await this.storage.head(upload.s3Key);
    if (!head) throw new ValidationError('No file arrived in storage for this upload; upload the zip again.');
    let info: PackageInfo;
    try {
      if (head.size > this.limits.maxBytes) {
        throw new PackageRejectedError([`The zip is ${formatMb(head.size)}; the limit is ${formatMb(this.limits.maxBytes)}.`]);
      }
      info = await inspectPackage(this.rangeReader(upload.s3Key, head.size), {
        type: product.type,
        slug: product.slug,
        maxUncompressedBytes: this.limits.maxUncompressedBytes,
        maxCompressionRatio: this.limits.maxCompressionRatio,
      });
      if (await q.findVersionByNumber(this.db, product.id, info.version)) {
        throw new PackageRejectedError([`Version ${info.version} is already released; raise the Version header.`]);
      }
    } catch (err) {
      if (err instanceof PackageRejectedError) await this.refuse(upload, err.reasons);
      throw err;
    }

    const readme: StoredReadme | null = info.readme
      ? {
          sections: info.readme.sections,
          changelog: info.readme.changelog,
          upgradeNotice: info.readme.upgradeNotice,
          shortDescription: info.readme.shortDescription ?? null,
        }
      : null;

    const version = await this.db.transaction(async (tx) => {
      if (!(await q.claimUpload(tx as unknown as Db, upload.id, 'finalized', null))) {
        throw new ConflictError('This upload was already released.', 'already_finalized');
      }
      const row = await q.insertVersion(tx as unknown as Db, {
        productId: product.id,
        version: info.version,
        s3Key: upload.s3Key,
        size: head.size,
        name: info.name,
        requires: info.requires,
        tested: info.tested,
        requiresPhp: info.requiresPhp,
        author: info.author,
        authorUri: info.authorUri,
        uri: info.uri,
        readme,
        upgradeNotice: info.readme?.upgradeNotice?.[info.version] ?? null,
      });
      if (!row) throw new ConflictError(`Version ${info.version} is already released.`, 'version_exists');
      // A newer release goes live; backfilling an older one leaves the live version alone.
      const live = product.liveVersionId ? await q.findVersion(tx as unknown as Db, product.id, product.liveVersionId) : undefined;
      if (!live || compareVersions(row.version, live.version) > 0) await q.setLiveVersion(tx as unknown as Db, product.id, row.id);
      return row;
    });
    this.onChanged(product.id);
    this.logger.info({ productId: product.id, version: version.version, size: head.size }, 'release: finalized');
    this.track(this.hashVersion(version.id, version.s3Key));
    return version;
  }

  async listVersions(userId: string, productId: string) {
    const product = await this.products.get(userId, productId);
    const rows = await q.listVersions(this.db, product.id);
    rows.sort((a, b) => compareVersions(b.version, a.version));
    return { product, versions: rows };
  }

  async findVersion(userId: string, productId: string, ref: string): Promise<{ product: q.ProductRow; version: Version }> {
    const { product, versions } = await this.listVersions(userId, productId);
    const version = versions.find((v) => v.id === ref || v.version === ref);
    if (!version) throw new NotFoundError('No such version');
    return { product, version };
  }

  /** Make any kept version live: a rollback is the same operation as a release. */
  async setLive(userId: string, productId: string, ref: string): Promise<Version> {
    const { product, version } = await this.findVersion(userId, productId, ref);
    await q.setLiveVersion(this.db, product.id, version.id);
    this.onChanged(product.id);
    this.logger.info({ productId: product.id, version: version.version }, 'release: made live');
    return version;
  }

  async deleteVersion(userId: string, productId: string, ref: string): Promise<void> {
    const { product, version } = await this.findVersion(userId, productId, ref);
    if (product.liveVersionId === version.id) {
      throw new ConflictError(`Version ${version.version} is live; make another version live before deleting it.`, 'version_live');
    }
    await q.deleteVersionRow(this.db, product.id, version.id);
    this.onChanged(product.id);
    await this.storage.delete(version.s3Key).catch((err) => this.logger.warn({ err, key: version.s3Key }, 'storage: could not delete object'));
  }

  private async refuse(upload: q.UploadRow, reasons: string[]): Promise<void> {
    await q.claimUpload(this.db, upload.id, 'refused', reasons);
    await this.storage.delete(upload.s3Key).catch((err) => this.logger.warn({ err, key: upload.s3Key }, 'storage: could not delete refused object'));
    this.logger.info({ uploadId: upload.id, reasons }, 'release: refused');
  }

  private rangeReader(key: string, size: number): RangeReader {
    return { size, read: (offset, length) => this.storage.readRange(key, offset, length) };
  }

  /** Waits for the checksum jobs started by this process (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.hashing.size) await Promise.allSettled([...this.hashing]);
  }

  /** Versions whose checksum a crash left unfinished; every server may run this, the update is idempotent. */
  async hashPending(limit = 5): Promise<number> {
    const rows = await q.versionsWithoutChecksum(this.db, limit, new Date(Date.now() - 10 * 60_000));
    for (const v of rows) await this.hashVersion(v.id, v.s3Key);
    return rows.length;
  }

  private track(p: Promise<void>): void {
    this.hashing.add(p);
    void p.finally(() => this.hashing.delete(p));
  }

  /** Streams the object through SHA-256 in constant memory, after the vendor already has an answer. */
  private async hashVersion(versionId: string, key: string): Promise<void> {
    try {
      await q.setVersionChecksum(this.db, versionId, await this.storage.sha256(key));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, versionId }, 'release: checksum failed; will retry');
    }
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
