import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { JobContext, JobQueue } from '../../adapters/queue/job-queue';
import type { Storage } from '../../adapters/storage/storage';
import type { Db } from '../../db/client';
import * as q from '../../db/queries/git.queries';
import * as pq from '../../db/queries/products.queries';
import { AppError } from '../../lib/errors';
import type { SecretBox } from '../../lib/secret-box';
import type { Logger } from '../../logger';
import { productRef } from '../events/event-data';
import { recordEvent } from '../events/event-outbox';
import { PackageRejectedError } from '../packages/package-inspector';
import type { ReleasesService, Version } from '../releases.service';
import { ArchiveError, capBytes, rewriteArchive } from './archive-rewrite';
import { ProviderError, type BuildState, type GitProvider, type GitProviderName } from './git-providers';

export const BUILD_RETRY_LIMIT = 5;
const VERIFY_WAIT_MS = 15 * 60_000;

/** A branch push whose Version header names a version already released: nothing to build. */
class UnchangedVersion extends Error {
  constructor(readonly version: string) {
    super(`Version ${version} is already released; nothing to build.`);
  }
}

type Outcome = { status: 'live' | 'ready' | 'skipped' | 'failed'; reasons: string[]; version: Version | null };

/**
 * Runs one build (a job of the `git.build` queue): download the archive of the pushed commit,
 * rewrite it into `<slug>/…` without `.distignore`d and `.git*` paths, stream it to S3, and
 * finalize it through the same validation as a browser upload. A retried attempt (the server died,
 * the provider answered 5xx) picks up where the last one got: the version id is the build's id.
 */
export class BuildRunner {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly releases: ReleasesService,
    private readonly providers: Record<GitProviderName, GitProvider>,
    private readonly box: SecretBox,
    private readonly publicUrl: string,
    private readonly logger: Logger,
    private readonly jobs: JobQueue,
    private readonly queue: string,
    /** The largest archive a build downloads: MAX_UPLOAD_BYTES, as for a browser upload. */
    private readonly maxArchiveBytes: number,
  ) {}

  /**
   * Fails builds whose job ended without ending them: the server running the last allowed attempt
   * died, so pg-boss failed the job on its lapsed heartbeat and nothing will retry it.
   */
  async sweepAbandoned(now = Date.now()): Promise<number> {
    let n = 0;
    for (const b of await q.unfinishedBuilds(this.db, new Date(now - 2 * 60_000), 50)) {
      const [job] = await this.jobs.find(this.queue, [b.jobId!]);
      if (job && !['failed', 'cancelled', 'completed'].includes(job.state)) continue;
      const product = await pq.findProduct(this.db, b.productId);
      await this.finish(b, product ?? null, { status: 'failed', reasons: ['The build stopped without finishing: the server running its last attempt stopped.'], version: null });
      n++;
    }
    return n;
  }

  buildPageUrl(productId: string, buildId: string): string {
    return `${this.publicUrl}/products/${productId}/builds#build-${buildId}`;
  }

  async run(job: JobContext<{ buildId: string }>): Promise<void> {
    const build = await q.findBuild(this.db, job.data.buildId);
    if (!build || !['queued', 'building'].includes(build.status)) return;
    const product = await pq.findProduct(this.db, build.productId);
    const conn = await q.findConnection(this.db, build.productId);
    const log = (line: string) => q.appendBuildLog(this.db, build.id, [{ at: new Date().toISOString(), line }]);
    if (!product || !conn) {
      await this.finish(build, product ?? null, { status: 'failed', reasons: ['The product was disconnected from its repository before the build ran.'], version: null });
      return;
    }
    const token = this.box.open(conn.tokenEnc);
    const provider = this.providers[build.provider as GitProviderName];
    await q.startBuildAttempt(this.db, build.id);
    await log(`Attempt ${job.retryCount + 1}: building ${build.ref} at ${build.commitSha.slice(0, 12)}.`);
    await this.report(provider, token, build, 'pending', 'Building the release');

    let outcome: Outcome;
    try {
      outcome = await this.attempt(build, product, provider, token, log);
    } catch (err) {
      const retryable = !(err instanceof PackageRejectedError || err instanceof ArchiveError || err instanceof AppError || (err instanceof ProviderError && !err.retryable));
      const message = (err as Error).message;
      if (retryable && job.retryCount < BUILD_RETRY_LIMIT) {
        await log(`Attempt ${job.retryCount + 1} failed: ${message} It will be retried.`);
        throw err;
      }
      const reasons = err instanceof PackageRejectedError ? err.reasons : [message];
      await log(`Failed: ${reasons.join(' ')}`);
      outcome = { status: 'failed', reasons, version: null };
    }
    await this.finish(build, product, outcome);
    const description =
      outcome.status === 'failed' ? `Failed: ${outcome.reasons.join(' ')}`
        : outcome.status === 'skipped' ? outcome.reasons.join(' ')
          : `Version ${outcome.version!.version} is ${outcome.status === 'live' ? 'live' : 'released (not the newest)'}`;
    await this.report(provider, token, build, outcome.status === 'failed' ? 'failure' : 'success', description);
  }

  private async attempt(build: q.BuildRow, product: pq.ProductRow, provider: GitProvider, token: string, log: (l: string) => Promise<void>): Promise<Outcome> {
    let version = await pq.findVersion(this.db, product.id, build.id);
    if (version) {
      await log(`Version ${version.version} was already made by an earlier attempt; waiting for its verification.`);
    } else {
      const tmp = path.join(os.tmpdir(), `wharf-build-${build.id}-${process.pid}.zip`);
      try {
        await log('Downloading the archive of the commit.');
        const body = await provider.downloadArchive(token, build.repository, build.commitSha);
        await pipeline(body, capBytes(this.maxArchiveBytes), fs.createWriteStream(tmp, { mode: 0o600 }));
        await log(`Downloaded ${fs.statSync(tmp).size} bytes.`);
        const rewrite = await rewriteArchive(tmp, product.slug);
        if (rewrite.dropped.length) await log(`Left out (.distignore, .git*): ${rewrite.dropped.slice(0, 50).join(', ')}${rewrite.dropped.length > 50 ? ', …' : ''}`);
        const { uploadId, key } = await this.releases.reserveServerUpload(product.userId, product.id);
        let size: number;
        try {
          size = await this.storage.putStream(key, rewrite.output, 'application/zip');
        } finally {
          rewrite.close();
        }
        await log(`Wrote ${product.slug}.zip (${rewrite.kept} files, ${size} bytes); checking it as an upload.`);
        const existing = new Set((await pq.listVersions(this.db, product.id)).filter((v) => v.status !== 'refused').map((v) => v.version));
        const tag = /^refs\/tags\/(.+)$/.exec(build.ref)?.[1];
        version = await this.releases.finalize(product.userId, product.id, { uploadId }, {
          versionId: build.id,
          check: (info) => {
            if (tag !== undefined) {
              const expected = tag.replace(/^v/i, '');
              if (info.version !== expected) throw new PackageRejectedError([`The tag ${tag} does not match the main file's Version: ${info.version} (the tag says ${expected}).`]);
            } else if (existing.has(info.version)) {
              throw new UnchangedVersion(info.version);
            }
          },
        });
        await log(`Version ${version.version} recorded; verifying every byte.`);
      } catch (err) {
        if (err instanceof UnchangedVersion) {
          await log(err.message);
          return { status: 'skipped', reasons: [err.message], version: null };
        }
        throw err;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    // The verification pass runs in this process, or (when its server died) is resumed by any server's sweep.
    const until = Date.now() + VERIFY_WAIT_MS;
    for (;;) {
      const { version: v, product: p } = await this.releases.awaitVerification(product.userId, product.id, version.id, 5000);
      if (v.status === 'refused') return { status: 'failed', reasons: v.reasons ?? ['The zip was refused.'], version: v };
      if (v.status === 'ready') {
        const live = p.liveVersionId === v.id;
        await log(live ? `Version ${v.version} is live.` : `Version ${v.version} is ready; a newer version stays live.`);
        return { status: live ? 'live' : 'ready', reasons: [], version: v };
      }
      if (Date.now() > until) throw new Error('Verification did not finish in 15 minutes.');
    }
  }

  /** Ends the build and records its event in one transaction: the event exists exactly when the build ended. */
  private async finish(build: q.BuildRow, product: pq.ProductRow | null, o: Outcome): Promise<void> {
    await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const ended = await q.finishBuild(t, build.id, { status: o.status, reasons: o.reasons, versionId: o.version?.id ?? null, version: o.version?.version ?? null });
      if (!ended || !product || o.status === 'skipped') return;
      await recordEvent(t, {
        userId: product.userId,
        productId: build.productId,
        type: o.status === 'failed' ? 'build.failed' : 'build.succeeded',
        data: { product: productRef(product), ...(o.status === 'failed' ? { error: o.reasons.join(' ') } : {}), buildId: build.id, ref: build.ref, commit: build.commitSha, version: o.version?.version ?? null, status: o.status, reasons: o.reasons, url: this.buildPageUrl(build.productId, build.id) },
      });
    });
    this.logger.info({ productId: build.productId, buildId: build.id, status: o.status }, 'git: build finished');
  }

  /** Commit status (GitHub) / build status (BitBucket) linking the build page; a failure here never fails the build. */
  private async report(provider: GitProvider, token: string, build: q.BuildRow, state: BuildState, description: string): Promise<void> {
    try {
      await provider.reportStatus(token, build.repository, build.commitSha, state, this.buildPageUrl(build.productId, build.id), description);
    } catch (err) {
      this.logger.info({ buildId: build.id, err: (err as Error).message }, 'git: status not reported');
    }
  }
}
