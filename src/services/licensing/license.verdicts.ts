import { compareVersions } from '../../lib/version-compare';
import type { CodeState } from './purchase-code.state';
import { isDevelopmentHost } from './site-host.rules';

/**
 * Every licence verdict and its wording: the update check, the download (given the state its
 * counting statement saw), activation, and a code's status. Services load state, ask here, and
 * act; the download statement enforces the same conditions atomically (downloads.queries.ts).
 */

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

export type CodeStatus = 'active' | 'expired' | 'exhausted' | 'revoked';

export function endOfDayUtc(date: string): number {
  return Date.parse(`${date}T23:59:59.999Z`);
}

export function todayUtc(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The wording of every refusal, in one place. */
export const MESSAGES = {
  missing: 'Enter your purchase code to receive updates.',
  missingForDownload: 'A purchase code is required to download this product.',
  unknown: 'This purchase code is not valid for this product. Check it and enter it again.',
  gone: 'This purchase code no longer exists.',
  revoked: 'This purchase code was revoked by the vendor.',
  renew: (expiresOn: string, version: string) => `Your purchase code expired on ${formatDate(expiresOn)}; renew it to get version ${version}.`,
  releasedAfterExpiry: (expiresOn: string, version: string) => `Your purchase code expired on ${formatDate(expiresOn)}; version ${version} was released after that.`,
  downloadLimit: (max: number) => `This purchase code has used all ${max} of its downloads. Contact the vendor for more.`,
  noSite: 'This purchase code is limited to specific sites, and this request did not say which site it is for.',
  siteLimit: (used: number, max: number, host: string) => `This purchase code is already active on ${used} of ${plural(max, 'allowed site')}. Deactivate it on another site to use it on ${host}.`,
  invalidToken: 'This download link is not valid. Check for updates again in WordPress to get a new one.',
  tokenExpired: 'This download link has expired. Check for updates again in WordPress to get a new one.',
  versionGone: 'This version is no longer available.',
  busy: 'This purchase code changed while the download was being counted; try the download again.',
} as const;

const refuse = (code: LicenseErrorCode, message: string): LicenseError => ({ code, message });

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

function downloadLimitError(code: CodeState): LicenseError | null {
  return code.maxDownloads !== null && code.downloadsUsed >= code.maxDownloads ? refuse('download_limit', MESSAGES.downloadLimit(code.maxDownloads)) : null;
}

/** Whether `host` may use the code: bound already, a development host, or a free slot. */
export function siteError(code: CodeState, host: string | null): LicenseError | null {
  if (code.maxSites === null) return null;
  if (!host) return refuse('site_limit', MESSAGES.noSite);
  if (code.boundHosts.includes(host) || isDevelopmentHost(host)) return null;
  return code.countedHosts.length >= code.maxSites ? refuse('site_limit', MESSAGES.siteLimit(code.countedHosts.length, code.maxSites, host)) : null;
}

export interface UpdateInput {
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

export interface UpdateVerdict {
  /** The version to announce (PUC needs one even when no download is allowed). */
  version: VersionRef;
  downloadable: boolean;
  error: LicenseError | null;
}

/** The update check: what a site is offered and whether it may download it. */
export function updateVerdict(input: UpdateInput): UpdateVerdict {
  const { live, code } = input;
  if (input.free) return { version: live, downloadable: true, error: null };
  if (code === undefined) return { version: live, downloadable: false, error: refuse('missing', MESSAGES.missing) };
  if (code === null) return { version: live, downloadable: false, error: refuse('unknown', MESSAGES.unknown) };
  if (code.revoked) return { version: live, downloadable: false, error: refuse('revoked', MESSAGES.revoked) };
  let offer = live;
  let expiryError: LicenseError | null = null;
  if (code.expiresOn && input.now > endOfDayUtc(code.expiresOn) && live.releasedAt > endOfDayUtc(code.expiresOn)) {
    expiryError = refuse('expired', MESSAGES.renew(code.expiresOn, live.version));
    const entitled = newestEntitled(input.versions, live, code.expiresOn);
    const newer = entitled && (!input.installedVersion || compareVersions(entitled.version, input.installedVersion) > 0);
    if (!newer) return { version: live, downloadable: false, error: expiryError };
    offer = entitled;
  }
  const usage = downloadLimitError(code) ?? siteError(code, input.host);
  if (usage) return { version: offer, downloadable: false, error: usage };
  return { version: offer, downloadable: true, error: expiryError };
}

/** How a granted download touches the code's sites. */
export type SiteBinding = 'none' | 'record' | 'claim-slot';

export type DownloadVerdict = { ok: true; binding: SiteBinding } | { ok: false; error: LicenseError };

/**
 * A download of `version`, given the code's state as its counting statement saw it (null: no such
 * code). `claim-slot`: the host takes a counted slot, which only a serialised write may grant.
 */
export function downloadVerdict(code: CodeState | null, productId: string, version: Pick<VersionRef, 'version' | 'releasedAt'>, host: string | null): DownloadVerdict {
  if (!code || code.productId !== productId) return { ok: false, error: refuse('unknown', MESSAGES.gone) };
  if (code.revoked) return { ok: false, error: refuse('revoked', MESSAGES.revoked) };
  if (code.expiresOn && version.releasedAt > endOfDayUtc(code.expiresOn)) return { ok: false, error: refuse('expired', MESSAGES.releasedAfterExpiry(code.expiresOn, version.version)) };
  const problem = downloadLimitError(code) ?? siteError(code, host);
  if (problem) return { ok: false, error: problem };
  return { ok: true, binding: siteBinding(code, host) };
}

/** Whether a download or activation from `host` binds it, and whether that takes a slot. */
export function siteBinding(code: CodeState, host: string | null): SiteBinding {
  if (!host || code.boundHosts.includes(host)) return 'none';
  return code.maxSites !== null && !isDevelopmentHost(host) ? 'claim-slot' : 'record';
}

/** Activation through the license API: 403 for a revoked code, 409 when the site has no slot. */
export function activationVerdict(code: CodeState, host: string): { status: 403 | 409; error: LicenseError } | null {
  if (code.revoked) return { status: 403, error: refuse('revoked', MESSAGES.revoked) };
  const problem = siteError(code, host);
  return problem ? { status: 409, error: problem } : null;
}

/** A code's status as the dashboard and the license API show it; mirrored in SQL by statusCondition. */
export function codeStatus(c: { revokedAt: Date | null; expiresOn: string | null; maxDownloads: number | null; downloadsUsed: number }, now = Date.now()): CodeStatus {
  if (c.revokedAt) return 'revoked';
  if (c.expiresOn && c.expiresOn < todayUtc(now)) return 'expired';
  if (c.maxDownloads !== null && c.downloadsUsed >= c.maxDownloads) return 'exhausted';
  return 'active';
}
