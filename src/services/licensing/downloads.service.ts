import type { Storage } from '../../adapters/storage/storage';
import type { Db } from '../../db/client';
import { claimSlotAndCount, countDownload, recordFreeDownload, seenCode, type ReleaseRow, type SeenCode } from '../../db/queries/downloads.queries';
import { ConflictError, ForbiddenError, NotFoundError } from '../../lib/errors';
import type { DownloadTokens } from './download-token.codec';
import { downloadVerdict, MESSAGES, type LicenseError } from './license.verdicts';
import { codeState, type CodeState } from './purchase-code.state';
import { isDevelopmentHost } from './site-host.rules';

const S3_URL_SECONDS = 300;
/** A verdict that allows what the write refused means a concurrent change landed in between: look again, a few times. */
const ATTEMPTS = 3;

/** Reports a write that changed a code's verdicts, with the revision it committed (the catalog's one invalidation path). */
export type CodeChanged = (code: string, revision: number) => void;

const refused = (e: LicenseError) => new ForbiddenError(e.message, e.code);

function seenState(seen: SeenCode): CodeState {
  return codeState({ ...seen, revokedAt: seen.revoked ? new Date(0) : null }, seen.sites);
}

/**
 * A package download: count it exactly once and record it in one statement (the atomic write is
 * the check), then hand out a short-lived S3 URL. The app never carries the bytes.
 */
export class DownloadsService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly tokens: DownloadTokens,
    private readonly codeChanged: CodeChanged,
  ) {}

  async download(token: string, now = Date.now()): Promise<string> {
    const claims = this.tokens.verify(token, now);
    if ('error' in claims) throw new ForbiddenError(claims.error === 'token_expired' ? MESSAGES.tokenExpired : MESSAGES.invalidToken, claims.error);
    const release = claims.codeId ? await this.countWithCode(claims.codeId, claims.productId, claims.versionId, claims.host) : await this.countFree(claims.productId, claims.versionId, claims.host);
    return this.storage.presignGet(release.s3Key, { expiresSeconds: S3_URL_SECONDS, filename: `${release.slug}.zip` });
  }

  private async countFree(productId: string, versionId: string, host: string | null): Promise<ReleaseRow> {
    const release = await recordFreeDownload(this.db, { productId, versionId, host });
    if (!release) throw new NotFoundError(MESSAGES.versionGone);
    if (!release.free) throw refused({ code: 'missing', message: MESSAGES.missingForDownload });
    return release;
  }

  private async countWithCode(codeId: string, productId: string, versionId: string, host: string | null): Promise<ReleaseRow> {
    const devHost = host !== null && isDevelopmentHost(host);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const r = await countDownload(this.db, { codeId, productId, versionId, host, devHost });
      if (!r.release) throw new NotFoundError(MESSAGES.versionGone);
      if (r.counted) {
        if (r.counted.bumped) this.codeChanged(r.counted.code, r.counted.revision);
        return r.release;
      }
      // Refused: why, worded from the code as it is now.
      const seen = await seenCode(this.db, codeId);
      const verdict = downloadVerdict(seen && seenState(seen), productId, r.release, host);
      if (!verdict.ok) throw refused(verdict.error);
      if (verdict.binding === 'claim-slot') {
        const claimed = await claimSlotAndCount(this.db, { codeId, productId, versionId, host: host!, releasedAt: r.release.releasedAt, version: r.release.version });
        if (claimed !== 'site_limit' && claimed !== null) {
          this.codeChanged(seen!.code, claimed.revision);
          return r.release;
        }
        // No slot after all, or the code changed: the next look words the refusal.
      }
    }
    throw new ConflictError(MESSAGES.busy, 'busy');
  }
}
