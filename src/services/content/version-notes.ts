/** What a release zip says about its own version, converted once (at upload) to sanitized HTML. */
import type { StoredSection } from '../../db/schema/content';
import { readmeToHtml } from '../packages/readme-html';
import type { ChangelogEntry, ReadmeInfo } from '../packages/readme';
import { parseChangelogFile } from './changelog-file';
import { escapeHtml } from './html-sanitizer';
import { markdownToSafeHtml } from './markdown';

export interface ChangelogFile {
  /** Path inside the zip: `.md` is Markdown, anything else the readme dialect. */
  name: string;
  text: string;
}

export interface VersionNotes {
  changelog: string;
  upgradeNotice: string;
  /** The readme's sections as HTML, in the readme's order (changelog and upgrade notice are per version instead). */
  sections: StoredSection[];
  /** Every changelog entry the zip carries, by version: fills older versions that have none yet. */
  entries: Map<string, string>;
}

const PER_VERSION = new Set(['changelog', 'upgrade_notice']);

/** Only the versions asked for are rendered (rendering is linear but not free on hostile text, and finalize waits for it). */
function entriesHtml(entries: ChangelogEntry[], render: (text: string) => string, wanted: ReadonlySet<string> | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) if (!out.has(e.version) && e.body.trim() !== '' && (!wanted || wanted.has(e.version))) out.set(e.version, render(e.body).trim());
  return out;
}

/**
 * readme.txt first (its `= 1.2 =` entries), else CHANGELOG.md / changelog.txt; for plugins and themes alike.
 * Without a readme description, the main file's `Description:` header (plain text) is the description.
 */
export function versionNotes(
  version: string,
  readme: ReadmeInfo | null,
  file: ChangelogFile | null,
  headerDescription: string | null = null,
  /** Older versions whose text is wanted too (those with none yet); null: every entry. */
  older: readonly string[] | null = null,
): VersionNotes {
  const wanted = older ? new Set([version, ...older]) : null;
  let entries = entriesHtml(readme?.changelog ?? [], readmeToHtml, wanted);
  if ((readme?.changelog ?? []).length === 0 && file) {
    entries = entriesHtml(parseChangelogFile(file.text), file.name.toLowerCase().endsWith('.md') ? markdownToSafeHtml : readmeToHtml, wanted);
  }
  const sections: StoredSection[] = [];
  for (const [key, text] of Object.entries(readme?.sections ?? {})) {
    if (PER_VERSION.has(key)) continue;
    const html = readmeToHtml(text).trim();
    if (html.trim() !== '') sections.push({ key, html });
  }
  if (!sections.some((s) => s.key === 'description') && readme?.shortDescription) {
    sections.unshift({ key: 'description', html: readmeToHtml(readme.shortDescription).trim() });
  } else if (!sections.some((s) => s.key === 'description') && headerDescription?.trim()) {
    sections.unshift({ key: 'description', html: `<p>${escapeHtml(headerDescription.trim())}</p>` });
  }
  const notice = readme && Object.hasOwn(readme.upgradeNotice, version) ? readme.upgradeNotice[version]! : '';
  return { changelog: entries.get(version) ?? '', upgradeNotice: notice ? readmeToHtml(notice).trim() : '', sections, entries };
}
