import { assembleChangelog, storedUpgradeNotice } from '../content/changelog';
import { escapeHtml, sanitizeSectionHtml } from '../content/html-sanitizer';
import { safeHttpUrl } from '../content/urls';
import { readmeToHtml } from '../packages/readme-html';
import type { LicenseError } from '../licensing/license.verdicts';
import type { ProductSnapshot, VersionMeta } from './catalog.service';

/** PUC shows "tested" with a patch number appended; WordPress compares it to its own version. */
function lastUpdated(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function changelogHtml(p: ProductSnapshot, v: VersionMeta | null): string {
  // Per-version changelogs (filled at upload, edited in the dashboard or by API) first.
  const assembled = p.content ? assembleChangelog(p.content.notes, v?.version ?? null) : '';
  if (assembled) return assembled;
  if (p.changelog.trim()) return readmeToHtml(p.changelog);
  const entries = v?.readme?.changelog ?? [];
  // Each part is escaped or already sanitized; the joined whole goes through the sanitizer once more all the same.
  return sanitizeSectionHtml(entries.map((e) => `<h4>${escapeHtml(e.version)}</h4>\n${readmeToHtml(e.body)}`).join('\n'));
}

/** The zip's sections: converted at upload for the live version, else rendered from the stored readme (older rows). */
function zipSections(p: ProductSnapshot, v: VersionMeta | null): Map<string, string> {
  const stored = v && v.id === p.live?.id ? p.content?.liveSections : null;
  if (stored) return new Map(stored.map((s) => [s.key, s.html]));
  const readme = v?.readme?.sections ?? {};
  const out = new Map<string, string>();
  for (const [key, text] of Object.entries(readme)) if (key !== 'upgrade_notice' && key !== 'changelog') out.set(key, readmeToHtml(text));
  if (!out.get('description')?.trim() && v?.readme?.shortDescription) out.set('description', readmeToHtml(v.readme.shortDescription));
  return out;
}

/** Uncached (the preview renders unsaved text with it); productSections caches per revision. */
export function renderSections(p: ProductSnapshot, v: VersionMeta | null): Record<string, string> {
  // The vendor's sections (sanitized HTML), then the older Markdown fields, then the zip's readme.
  const own = new Map((p.content?.sections ?? []).map((s) => [s.key, s.html]));
  const zip = zipSections(p, v);
  const pick = (key: string, markdown: string): string => own.get(key) ?? (markdown.trim() ? readmeToHtml(markdown) : (zip.get(key) ?? ''));
  const out: Record<string, string> = {
    description: pick('description', p.description),
    installation: pick('installation', p.installation),
    changelog: changelogHtml(p, v),
  };
  for (const [key, html] of [...own, ...zip]) {
    if (!Object.hasOwn(out, key)) out[key] = html;
  }
  return out;
}

// Rendering is linear but not free (up to ~1 s for hostile 100,000-character fields): once per product revision and version.
// Bounded by size, not count: one hostile product's sections can reach megabytes.
const renderedSections = new Map<string, Record<string, string>>();
const MAX_RENDERED_CHARS = 32 * 1024 * 1024;
let renderedChars = 0;

/**
 * The vendor's own text wins; the release's readme.txt fills the gaps. Every section is sanitized to WordPress's
 * plugin-section allowlist. Shared with the details page.
 */
export function productSections(p: ProductSnapshot, v: VersionMeta | null): Record<string, string> {
  const key = `${p.id}:${p.revision}:${v?.id ?? ''}`;
  let sections = renderedSections.get(key);
  if (!sections) {
    sections = renderSections(p, v);
    const chars = Object.values(sections).reduce((n, html) => n + html.length, 0);
    if (renderedChars + chars > MAX_RENDERED_CHARS) {
      renderedSections.clear();
      renderedChars = 0;
    }
    renderedSections.set(key, sections);
    renderedChars += chars;
  }
  return sections;
}

/** The offered version's upgrade notice as WordPress's allowlist lets it through; absent when nothing is left. */
function upgradeNotice(p: ProductSnapshot, v: VersionMeta): string | undefined {
  const text = storedUpgradeNotice(p.content?.notes, v.id) ?? v.upgradeNotice;
  const html = text ? sanitizeSectionHtml(text).trim() : '';
  return html === '' ? undefined : html;
}

const urls = <K extends string>(o: Record<K, string | null>) => Object.fromEntries(Object.entries(o).map(([k, u]) => [k, safeHttpUrl(u)]));

const clean = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * The answer for one product revision and version, as JSON text without its closing brace:
 * the per-request parts (download_url, license_error) are appended without re-serialising.
 */
export function renderBase(p: ProductSnapshot, v: VersionMeta, detailsUrl: string): string {
  if (p.type === 'theme') {
    return JSON.stringify(clean({ name: escapeHtml(p.name), slug: p.slug, version: v.version, details_url: safeHttpUrl(detailsUrl), last_updated: lastUpdated(v.releasedAt), requires: v.requires, requires_php: v.requiresPhp })).slice(0, -1);
  }
  const author = p.author ?? v.author;
  // URLs are http(s) or left out; HTML is sanitized; plain text that WordPress prints as HTML is escaped.
  const body = {
    name: escapeHtml(p.name),
    slug: p.slug,
    version: v.version,
    homepage: safeHttpUrl(p.homepage) ?? safeHttpUrl(v.uri) ?? safeHttpUrl(detailsUrl),
    requires: v.requires,
    tested: v.tested,
    requires_php: v.requiresPhp,
    last_updated: lastUpdated(v.releasedAt),
    upgrade_notice: upgradeNotice(p, v),
    author: author ? escapeHtml(author) : undefined,
    author_homepage: safeHttpUrl(p.authorHomepage) ?? safeHttpUrl(v.authorUri) ?? undefined,
    sections: productSections(p, v),
    banners: clean(urls(p.banners)),
    icons: clean(urls(p.icons)),
    // WordPress's "View details" shows it as "N+ active installations" (issue 13: 7-day active sites).
    active_installs: p.activeInstalls,
  };
  // Absent rather than null: PUC and WordPress treat a missing field as "unknown".
  return JSON.stringify(clean(body)).slice(0, -1);
}

/** `downloadUrlJson` is the URL already as a JSON string literal (quotes included). */
export function finish(base: string, downloadUrlJson: string | null, error: LicenseError | null): string {
  let out = base;
  if (downloadUrlJson) out += `,"download_url":${downloadUrlJson}`;
  if (error) out += `,"license_error":${JSON.stringify(error)}`;
  return `${out}}`;
}
