/** CHANGELOG.md / changelog.txt in a release zip: entries per version, in the file's order. */
import type { ChangelogEntry } from '../packages/readme';
import { headingOf, parseEntries } from '../packages/readme';

/** `[1.2.0] - 2024-05-01`, `v1.2`, `Version 1.2 (May 2024)` → "1.2.0" / "1.2"; null when the heading names no version. */
export function headingVersion(text: string): string | null {
  const t = text.trim().replace(/^\[/, '');
  return /^(?:version\s*)?v?(\d[0-9A-Za-z.+_-]*)/i.exec(t)?.[1]?.replace(/[\].]+$/, '') ?? null;
}

/**
 * Keep a Changelog (`## [1.2.0] - date`), plain `## 1.2` / `### 1.2`, or readme style `= 1.2 =`.
 * The entry level is the shallowest `#` heading that names a version; deeper headings stay in the body.
 */
export function parseChangelogFile(input: string): ChangelogEntry[] {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  let level = 0;
  for (const line of lines) {
    const h = headingOf(line);
    if (h && h.marker === '#' && headingVersion(h.text) !== null && (level === 0 || h.level < level)) level = h.level;
  }
  if (level === 0) return parseEntries(text).filter((e) => headingVersion(e.version) !== null);
  const entries: { version: string; lines: string[] }[] = [];
  for (const line of lines) {
    const h = headingOf(line);
    const version = h && h.marker === '#' && h.level === level ? headingVersion(h.text) : null;
    if (version !== null) entries.push({ version, lines: [] });
    else if (h && h.marker === '#' && h.level < level) entries.push({ version: '', lines: [] }); // a new top part ends the entry
    else entries[entries.length - 1]?.lines.push(line);
  }
  return entries.filter((e) => e.version !== '').map((e) => ({ version: e.version, body: e.lines.join('\n').trim() }));
}
