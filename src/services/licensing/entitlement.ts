import { compareVersions } from '../../lib/version-compare';
import { isDevelopmentHost } from './site-hosts';

export type LicenseErrorCode = 'expired' | 'download_limit' | 'site_limit' | 'revoked' | 'unknown' | 'missing';

export interface LicenseError {
  code: LicenseErrorCode;
  message: string;
}

export interface VersionRef {
  id: string;
  version: string;
  releasedAt: number; // epoch ms
}

export interface CodeState {
  id: string;
  productId: string;
  expiresOn: string | null; // YYYY-MM-DD, entitled through the end of that UTC day
  maxDownloads: number | null;
  downloadsUsed: number;
  maxSites: number | null;
  revoked: boolean;
  /** Active bound hosts that use up a slot (only loaded when maxSites is set). */
  countedHosts: string[];
  /** Every active bound host, development ones included (only loaded when maxSites is set). */
  boundHosts: string[];
}

export interface EntitlementInput {
  free: boolean;
  live: VersionRef;
  /** Every kept version, any order. */
  versions: VersionRef[];
  /** undefined: no code sent; null: a code was sent but is not one of this product's. */
  code: CodeState | null | undefined;
  host: string | null;
  installedVersion: string | null;
  now: number;
}

export interface Entitlement {
  /** The version to announce (PUC needs one even when no download is allowed). */
  version: VersionRef;
  downloadable: boolean;
  error: LicenseError | null;
}

export function endOfDayUtc(date: string): number {
  return Date.parse(`${date}T23:59:59.999Z`);
}

// Made once: toLocaleDateString builds a formatter on every call (~100 µs, on every expired-code check).
const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

const formatted = new Map<string, string>(); // expiry dates repeat: every expired-code check words one

export function formatDate(date: string): string {
  let text = formatted.get(date);
  if (text === undefined) {
    const d = new Date(`${date}T00:00:00Z`);
    text = Number.isNaN(d.getTime()) ? 'Invalid Date' : DATE.format(d); // format() throws where toLocaleDateString says so
    if (formatted.size >= 10_000) formatted.clear();
    formatted.set(date, text);
  }
  return text;
}

/** The newest version released on or before the code's expiry, never newer than what is live. */
export function newestEntitled(versions: VersionRef[], live: VersionRef, expiresOn: string): VersionRef | null {
  const until = endOfDayUtc(expiresOn);
  let best: VersionRef | null = null;
  for (const v of versions) {
    if (v.releasedAt > until || compareVersions(v.version, live.version) > 0) continue;
    if (!best || compareVersions(v.version, best.version) > 0) best = v;
  }
  return best;
}

/** Site-limit and download-limit rules shared by the update check, the download and activation. */
export function usageError(code: CodeState, host: string | null): LicenseError | null {
  if (code.maxDownloads !== null && code.downloadsUsed >= code.maxDownloads) {
    return { code: 'download_limit', message: `This purchase code has used all ${code.maxDownloads} of its downloads. Contact the vendor for more.` };
  }
  return siteError(code, host);
}

export function siteError(code: CodeState, host: string | null): LicenseError | null {
  if (code.maxSites === null) return null;
  if (!host) return { code: 'site_limit', message: "This purchase code is limited to specific sites, and this request did not say which site it is for." };
  if (code.boundHosts.includes(host) || isDevelopmentHost(host)) return null;
  if (code.countedHosts.length >= code.maxSites) {
    return {
      code: 'site_limit',
      message: `This purchase code is already active on ${code.countedHosts.length} of ${code.maxSites} allowed site${code.maxSites === 1 ? '' : 's'}. Deactivate it on another site to use it on ${host}.`,
    };
  }
  return null;
}

/** The one place that decides what a site may have: the update check and the download both ask. */
export function evaluate(input: EntitlementInput): Entitlement {
  const { live } = input;
  if (input.free) return { version: live, downloadable: true, error: null };
  const code = input.code;
  if (code === undefined) {
    return { version: live, downloadable: false, error: { code: 'missing', message: 'Enter your purchase code to receive updates.' } };
  }
  if (code === null) {
    return { version: live, downloadable: false, error: { code: 'unknown', message: 'This purchase code is not valid for this product. Check it and enter it again.' } };
  }
  if (code.revoked) {
    return { version: live, downloadable: false, error: { code: 'revoked', message: 'This purchase code was revoked by the vendor.' } };
  }
  let offer = live;
  let expiryError: LicenseError | null = null;
  if (code.expiresOn && input.now > endOfDayUtc(code.expiresOn) && live.releasedAt > endOfDayUtc(code.expiresOn)) {
    const renew = `Your purchase code expired on ${formatDate(code.expiresOn)}; renew it to get version ${live.version}.`;
    expiryError = { code: 'expired', message: renew };
    const entitled = newestEntitled(input.versions, live, code.expiresOn);
    const newer = entitled && (!input.installedVersion || compareVersions(entitled.version, input.installedVersion) > 0);
    if (!newer) return { version: live, downloadable: false, error: expiryError };
    offer = entitled;
  }
  const usage = usageError(code, input.host);
  if (usage) return { version: offer, downloadable: false, error: usage };
  return { version: offer, downloadable: true, error: expiryError };
}
