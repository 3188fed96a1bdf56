/** The changelog section WordPress shows, assembled from each version's own changelog. */
import { compareVersions } from '../../lib/version-compare';
import { escapeHtml, sanitizeSectionHtml } from './html-sanitizer';

export interface VersionNote {
  versionId: string;
  version: string;
  changelog: string;
  upgradeNotice: string;
}

/**
 * Every version up to the one offered, newest first, each under an `<h4>` with its number (as wordpress.org
 * renders `= 1.2 =`); versions with no text are left out. '' when none has any.
 */
export function assembleChangelog(notes: readonly VersionNote[], offered: string | null): string {
  const shown = notes
    .filter((n) => n.changelog.trim() !== '' && (offered === null || compareVersions(n.version, offered) <= 0))
    .sort((a, b) => compareVersions(b.version, a.version));
  // Each part is stored sanitized and the number is escaped; the whole goes through the sanitizer once more all the same.
  return shown.length === 0 ? '' : sanitizeSectionHtml(shown.map((n) => `<h4>${escapeHtml(n.version)}</h4>\n${n.changelog}`).join('\n'));
}

/** The stored notice of this version: undefined when the version has no stored text (older rows), so the caller falls back. */
export function storedUpgradeNotice(notes: readonly VersionNote[] | undefined, versionId: string): string | undefined {
  return notes?.find((n) => n.versionId === versionId)?.upgradeNotice;
}
