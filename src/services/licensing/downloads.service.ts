import type { Storage } from '../../adapters/storage/storage';
import type { Db } from '../../db/client';
import * as lq from '../../db/queries/licensing.queries';
import * as pq from '../../db/queries/products.queries';
import { ForbiddenError, NotFoundError } from '../../lib/errors';
import type { Logger } from '../../logger';
import type { Catalog } from '../updates/catalog';
import { codeState } from '../updates/catalog';
import type { DownloadTokens } from '../updates/download-tokens';
import { endOfDayUtc, formatDate, usageError } from './entitlement';
import { isDevelopmentHost } from './site-hosts';

const S3_URL_SECONDS = 300;

const TOKEN_MESSAGES = {
  invalid_token: 'This download link is not valid. Check for updates again in WordPress to get a new one.',
  token_expired: 'This download link has expired. Check for updates again in WordPress to get a new one.',
} as const;

/**
 * A package download: re-check the code against the database, count it exactly once, record it,
 * and hand out a short-lived S3 URL. The app never carries the bytes.
 */
export class DownloadsService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly tokens: DownloadTokens,
    private readonly catalog: Catalog,
    private readonly logger: Logger,
  ) {}

  async download(token: string, now = Date.now()): Promise<string> {
    const claims = this.tokens.verify(token, now);
    if ('error' in claims) throw new ForbiddenError(TOKEN_MESSAGES[claims.error], claims.error);
    const version = await pq.findReadyVersion(this.db, claims.productId, claims.versionId);
    const product = version ? await pq.findProduct(this.db, claims.productId) : undefined;
    if (!version || !product) throw new NotFoundError('This version is no longer available.');

    if (claims.codeId) {
      const code = await this.db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        const row = await lq.lockCode(t, claims.codeId!);
        if (!row || row.productId !== product.id) throw new ForbiddenError('This purchase code no longer exists.', 'unknown');
        if (row.revokedAt) throw new ForbiddenError('This purchase code was revoked by the vendor.', 'revoked');
        if (row.expiresOn && version.releasedAt.getTime() > endOfDayUtc(row.expiresOn)) {
          throw new ForbiddenError(`Your purchase code expired on ${formatDate(row.expiresOn)}; version ${version.version} was released after that.`, 'expired');
        }
        const state = codeState(row, await lq.activeSites(t, row.id));
        const problem = usageError(state, claims.host);
        if (problem) throw new ForbiddenError(problem.message, problem.code);
        if (claims.host && !state.boundHosts.includes(claims.host)) await lq.bindSite(t, row.id, claims.host, !isDevelopmentHost(claims.host));
        if (!(await lq.countDownload(t, row.id))) {
          throw new ForbiddenError(`This purchase code has used all ${row.maxDownloads} of its downloads.`, 'download_limit');
        }
        await lq.insertDownload(t, { productId: product.id, codeId: row.id, version: version.version, host: claims.host });
        return row.code;
      });
      this.catalog.invalidateCode(code);
    } else if (!product.free) {
      throw new ForbiddenError('A purchase code is required to download this product.', 'missing');
    } else {
      await lq.insertDownload(this.db, { productId: product.id, codeId: null, version: version.version, host: claims.host });
    }
    this.logger.info({ productId: product.id, version: version.version }, 'download: granted');
    return this.storage.presignGet(version.s3Key, { expiresSeconds: S3_URL_SECONDS, filename: `${product.slug}.zip` });
  }
}
