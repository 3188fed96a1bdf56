import type { PurchaseCodeRow } from '../../db/queries/licensing.queries';
import type { CodeState } from './entitlement';

export type CodeStatus = 'active' | 'expired' | 'exhausted' | 'revoked';

export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function codeStatus(c: Pick<PurchaseCodeRow, 'revokedAt' | 'expiresOn' | 'maxDownloads' | 'downloadsUsed'>, now = Date.now()): CodeStatus {
  if (c.revokedAt) return 'revoked';
  if (c.expiresOn && c.expiresOn < todayUtc(now)) return 'expired';
  if (c.maxDownloads !== null && c.downloadsUsed >= c.maxDownloads) return 'exhausted';
  return 'active';
}

/** The license API's view of a code, for one site. */
export function licenseJson(row: PurchaseCodeRow, state: CodeState, host: string | null, now = Date.now()) {
  return {
    license: {
      status: codeStatus(row, now),
      expires_at: row.expiresOn,
      downloads_used: row.downloadsUsed,
      downloads_allowed: row.maxDownloads,
      sites_used: state.countedHosts.length,
      sites_allowed: row.maxSites,
      site_active: host ? state.boundHosts.includes(host) : false,
    },
  };
}
