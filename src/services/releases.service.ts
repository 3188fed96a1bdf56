import crypto from 'node:crypto';
import type { Storage } from '../adapters/storage/storage';
import type { Db } from '../db/client';
import * as cq from '../db/queries/content.queries';
import * as q from '../db/queries/products.queries';
import type { StoredReadme } from '../db/schema';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { isUuid } from '../lib/validation';
import { compareVersions } from '../lib/version-compare';
import type { Logger } from '../logger';
import { versionNotes } from './content/version-notes';
import { inspectPackage, PackageRejectedError, type PackageInfo } from './packages/package-inspector';
import type { RangeReader } from './packages/range-reader';
import type { ProductsService } from './products.service';
import { releaseKey, uploadKey } from './releases/keys';
import { ReleaseVerifier } from './releases/release-verifier';
import { sweepExpiredUploads } from './releases/upload-sweeper';
import { recordEvent } from './events/event-outbox';
import { productRef } from './events/event-data';
import { initialRollout } from './rollouts.service';

export type Version = q.VersionRow;

export interface ReleaseLimits {
  maxBytes: number;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
}

export const PRESIGN_SECONDS = 15 * 60;

/** The upload slot's policy has expired: S3 accepts nothing for it any more, and neither does finalize. */
export class UploadExpiredError extends AppError {
  constructor(expiresAt: Date) {
    super(410, 'upload_expired', `This upload expired at ${expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (upload slots last ${PRESIGN_SECONDS / 60} minutes); start a new upload.`);
  }
}

/**
 * The upload → finalize pipeline, read top to bottom: HEAD, server-side copy to a release key,
 * inspect the copy by range, record it as `verifying`; then the deep verification pass decides.
 */
export class ReleasesService {
  private readonly verifier: ReleaseVerifier;

  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly products: ProductsService,
    private readonly limits: ReleaseLimits,
    private readonly logger: Logger,
    private readonly onChanged: (productId: string) => void = () => undefined,
  ) {
    this.verifier = new ReleaseVerifier(db, storage, logger, onChanged);
  }

  get maxBytes(): number {
    return this.limits.maxBytes;
  }

  /** A presigned POST for one new object under the vendor's and product's prefix; the only place upload rows are made. */
  async presignUpload(userId: string, productId: string, opts: { successRedirect?: (uploadId: string) => string } = {}) {
    const product = await this.products.get(userId, productId);
    const uploadId = crypto.randomUUID();
    const key = uploadKey(userId, product.id, uploadId);
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

  /**
   * An upload slot the server fills itself (a build from Git): the same row and key prefix as a
   * browser upload, so finalize treats both alike. No presigned POST is made for it.
   */
  async reserveServerUpload(userId: string, productId: string): Promise<{ uploadId: string; key: string }> {
    const product = await this.products.get(userId, productId);
    const uploadId = crypto.randomUUID();
    const key = uploadKey(userId, product.id, uploadId);
    await q.insertUpload(this.db, { id: uploadId, productId: product.id, s3Key: key, expiresAt: new Date(Date.now() + PRESIGN_SECONDS * 1000) });
    return { uploadId, key };
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

  /**
   * `opts.versionId`: the id the version gets (a build passes its own id, so a retried build finds it);
   * `opts.check`: extra rules on the inspected package (a build's tag must equal the Version header),
   * run before the version exists; a PackageRejectedError there refuses the upload like any other reason.
   */
  async finalize(userId: string, productId: string, ref: { uploadId?: string; key?: string }, opts: { versionId?: string; check?: (info: PackageInfo) => void } = {}): Promise<Version> {
    const { product, upload } = await this.findUpload(userId, productId, ref);
    if (upload.status === 'refused') throw new ValidationError(`This upload was refused: ${(upload.reasons ?? []).join(' ')}`);
    if (upload.status === 'finalized') throw new ConflictError('This upload was already released.', 'already_finalized');
    if (upload.expiresAt.getTime() <= Date.now()) throw new UploadExpiredError(upload.expiresAt);

    const uploaded = await this.storage.head(upload.s3Key);
    if (!uploaded) throw new ValidationError('No file arrived in storage for this upload; upload the zip again.');
    if (uploaded.size > this.limits.maxBytes) {
      const reasons = [`The zip is ${formatMb(uploaded.size)}; the limit is ${formatMb(this.limits.maxBytes)}.`];
      await this.refuse(product, upload, reasons, null);
      throw new PackageRejectedError(reasons);
    }
    // Freeze the bytes first (a server-side copy to a key no policy names): what is inspected is what is released.
    const versionId = opts.versionId ?? crypto.randomUUID();
    const key = releaseKey(userId, product.id, versionId);
    try {
      await this.storage.copy(upload.s3Key, key);
    } catch (err) {
      // Deleted between the HEAD and the copy (a concurrent finalize, or the sweep): nothing to release.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) throw new ValidationError('No file arrived in storage for this upload; upload the zip again.');
      throw err;
    }
    const dropCopy = () => this.storage.delete(key).catch((err: Error) => this.logger.warn({ err: err.message, key }, 'storage: could not delete release copy'));

    let info: PackageInfo;
    let size: number;
    try {
      size = (await this.storage.head(key))?.size ?? 0;
      info = await inspectPackage(this.rangeReader(key, size), {
        type: product.type,
        slug: product.slug,
        maxUncompressedBytes: this.limits.maxUncompressedBytes,
        maxCompressionRatio: this.limits.maxCompressionRatio,
      });
      opts.check?.(info);
      const existing = await q.findVersionByNumber(this.db, product.id, info.version);
      if (existing && existing.status !== 'refused') {
        throw new PackageRejectedError([`Version ${info.version} is already ${existing.status === 'ready' ? 'released' : 'being verified'}; raise the Version header.`]);
      }
    } catch (err) {
      await dropCopy();
      if (err instanceof PackageRejectedError) await this.refuse(product, upload, err.reasons, null);
      throw err;
    }

    let version: Version;
    try {
      version = await this.db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        if (!(await q.claimUpload(t, upload.id, 'finalized', null))) throw new ConflictError('This upload was already released.', 'already_finalized');
        await q.deleteRefusedVersion(t, product.id, info.version);
        const row = await q.insertVersion(t, {
          id: versionId,
          productId: product.id,
          version: info.version,
          s3Key: key,
          size,
          status: 'verifying',
          verifyAttempts: 1,
          name: info.name,
          requires: info.requires,
          tested: info.tested,
          requiresPhp: info.requiresPhp,
          author: info.author,
          authorUri: info.authorUri,
          uri: info.uri,
          readme: storedReadme(info),
          upgradeNotice: info.readme?.upgradeNotice?.[info.version] ?? null,
          ...initialRollout(product, info.version),
        });
        if (!row) throw new ConflictError(`Version ${info.version} is already released.`, 'version_exists');
        await recordVersionNotes(t, product.id, row.id, info);
        return row;
      });
    } catch (err) {
      await dropCopy();
      throw err;
    }
    // The upload object is no longer needed; if this fails, the expired-upload sweep deletes it.
    await this.storage.delete(upload.s3Key).catch((err: Error) => this.logger.warn({ err: err.message, key: upload.s3Key }, 'storage: could not delete upload object'));
    this.logger.info({ productId: product.id, version: version.version, size }, 'release: finalized; verifying');
    void this.verifier.start(version, info.archive);
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

  /** Make any ready version live: a rollback is the same operation as a release. */
  async setLive(userId: string, productId: string, ref: string): Promise<Version> {
    const { product, version } = await this.findVersion(userId, productId, ref);
    if (version.status === 'verifying') throw new ConflictError(`Version ${version.version} is still being verified; it can go live once verification succeeds.`, 'version_not_ready');
    if (version.status === 'refused') throw new ConflictError(`Version ${version.version} was refused and cannot go live.`, 'version_refused');
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

  /** A short-lived link to a verified version's zip, for its vendor (never counted as a customer download). */
  async vendorDownloadUrl(userId: string, productId: string, ref: string): Promise<string> {
    const { product, version } = await this.findVersion(userId, productId, ref);
    if (version.status !== 'ready') throw new ConflictError(`Version ${version.version} is not verified, so it cannot be downloaded.`, 'version_not_ready');
    return this.storage.presignGet(version.s3Key, { expiresSeconds: 300, filename: `${product.slug}.${version.version}.zip` });
  }

  private async refuse(product: q.ProductRow, upload: q.UploadRow, reasons: string[], version: string | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      if (await q.claimUpload(t, upload.id, 'refused', reasons)) {
        await recordEvent(t, { userId: product.userId, productId: product.id, type: 'release.refused', data: { product: productRef(product), version, reasons } });
      }
    });
    await this.storage.delete(upload.s3Key).catch((err) => this.logger.warn({ err, key: upload.s3Key }, 'storage: could not delete refused object'));
    this.logger.info({ uploadId: upload.id, reasons }, 'release: refused');
  }

  private rangeReader(key: string, size: number): RangeReader {
    return { size, read: (offset, length) => this.storage.readRange(key, offset, length) };
  }

  /** Waits up to timeoutMs for a version's verification in this process, then returns its row as it stands. */
  async awaitVerification(userId: string, productId: string, versionId: string, timeoutMs: number): Promise<{ product: q.ProductRow; version: Version }> {
    await this.products.get(userId, productId);
    if (isUuid(versionId)) await this.verifier.settled(versionId, timeoutMs);
    return this.findVersion(userId, productId, versionId);
  }

  /** Waits for the verification passes started by this process (tests, shutdown). */
  idle(): Promise<void> {
    return this.verifier.idle();
  }

  /** Resumes passes whose server stopped (run by every server's sweep; a claim decides who takes which). */
  resumeVerification(): Promise<number> {
    return this.verifier.resumeStale();
  }

  /** Deletes the objects and rows of upload slots past their expiry. */
  sweepUploads(now = Date.now()): Promise<number> {
    return sweepExpiredUploads(this.db, this.storage, this.logger, now);
  }
}

function storedReadme(info: PackageInfo): StoredReadme | null {
  return info.readme
    ? { sections: info.readme.sections, changelog: info.readme.changelog, upgradeNotice: info.readme.upgradeNotice, shortDescription: info.readme.shortDescription ?? null }
    : null;
}

/** The zip's changelog and notice for its own version, its readme sections as HTML, and entries for older versions that have none. */
async function recordVersionNotes(db: Db, productId: string, versionId: string, info: PackageInfo): Promise<void> {
  const older = (await cq.versionsWithContent(db, productId)).filter((v) => v.versionId !== versionId && v.changelog === null);
  const notes = versionNotes(info.version, info.readme, info.changelogFile, info.description, older.map((v) => v.version));
  await cq.insertVersionContent(db, [
    { versionId, productId, changelog: notes.changelog, upgradeNotice: notes.upgradeNotice, sections: notes.sections },
    ...older.filter((v) => notes.entries.has(v.version)).map((v) => ({ versionId: v.versionId, productId, changelog: notes.entries.get(v.version)! })),
  ]);
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
