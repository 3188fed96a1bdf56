import { readmeToHtml } from '../packages/readme-html';
import type { LicenseError } from '../licensing/license.verdicts';
import type { ProductSnapshot, VersionMeta } from './catalog.service';

/** PUC shows "tested" with a patch number appended; WordPress compares it to its own version. */
function lastUpdated(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function changelogHtml(p: ProductSnapshot, v: VersionMeta | null): string {
  if (p.changelog.trim()) return readmeToHtml(p.changelog);
  const entries = v?.readme?.changelog ?? [];
  return entries.map((e) => `<h4>${readmeToHtml(e.version).replace(/^<p>|<\/p>$/g, '')}</h4>\n${readmeToHtml(e.body)}`).join('\n');
}

/** The vendor's own text wins; the release's readme.txt fills the gaps. Shared with the details page. */
export function productSections(p: ProductSnapshot, v: VersionMeta | null): Record<string, string> {
  const readme = v?.readme?.sections ?? {};
  const out: Record<string, string> = {
    description: readmeToHtml(p.description.trim() || readme.description || v?.readme?.shortDescription || ''),
    installation: readmeToHtml(p.installation.trim() || readme.installation || ''),
    changelog: changelogHtml(p, v),
  };
  for (const [key, text] of Object.entries(readme)) {
    if (!(key in out) && key !== 'upgrade_notice') out[key] = readmeToHtml(text);
  }
  return out;
}

const clean = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

/**
 * The answer for one product revision and version, as JSON text without its closing brace:
 * the per-request parts (download_url, license_error) are appended without re-serialising.
 */
export function renderBase(p: ProductSnapshot, v: VersionMeta, detailsUrl: string): string {
  if (p.type === 'theme') {
    return JSON.stringify(clean({ name: p.name, slug: p.slug, version: v.version, details_url: detailsUrl, last_updated: lastUpdated(v.releasedAt), requires: v.requires, requires_php: v.requiresPhp })).slice(0, -1);
  }
  const body = {
    name: p.name,
    slug: p.slug,
    version: v.version,
    homepage: p.homepage ?? v.uri ?? detailsUrl,
    requires: v.requires,
    tested: v.tested,
    requires_php: v.requiresPhp,
    last_updated: lastUpdated(v.releasedAt),
    upgrade_notice: v.upgradeNotice ?? undefined,
    author: p.author ?? v.author ?? undefined,
    author_homepage: p.authorHomepage ?? v.authorUri ?? undefined,
    sections: productSections(p, v),
    banners: clean(p.banners),
    icons: clean(p.icons),
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
