/** WordPress readme.txt parsing (the wordpress.org format), for changelogs, notices and requirement fallbacks. */

export interface ChangelogEntry {
  version: string;
  body: string;
}

export interface ReadmeInfo {
  name: string | null;
  contributors: string[];
  donateLink: string | null;
  tags: string[];
  requires: string | null;
  tested: string | null;
  requiresPhp: string | null;
  stableTag: string | null;
  license: string | null;
  licenseUri: string | null;
  shortDescription: string | null;
  /** Raw section text keyed by lowercase snake name (description, installation, faq, changelog, …). */
  sections: Record<string, string>;
  /** Newest first, as written. */
  changelog: ChangelogEntry[];
  upgradeNotice: Record<string, string>;
}

type HeaderField = 'contributors' | 'donateLink' | 'tags' | 'requires' | 'tested' | 'requiresPhp' | 'stableTag' | 'license' | 'licenseUri';

// wordpress.org matches header names case-insensitively; a few common spellings are accepted too.
const HEADER_KEYS: Record<string, HeaderField> = {
  contributors: 'contributors',
  'donate link': 'donateLink',
  tags: 'tags',
  'requires at least': 'requires',
  requires: 'requires',
  'tested up to': 'tested',
  tested: 'tested',
  'requires php': 'requiresPhp',
  'stable tag': 'stableTag',
  license: 'license',
  'license uri': 'licenseUri',
};

const SECTION_ALIASES: Record<string, string> = { frequently_asked_questions: 'faq', change_log: 'changelog' };

const TITLE_RE = /^\s*(?:={2,}\s*([^=].*?)\s*={2,}|#\s+(.+?)\s*#*)\s*$/;
const SECTION_RE = /^\s*(?:==\s*([^=].*?)\s*==|##\s+(.+?)\s*#*)\s*$/;
const ENTRY_RE = /^\s*(?:=\s*([^=].*?)\s*=|#{3,4}\s+(.+?)\s*#*)\s*$/;
const HEADER_RE = /^[\s*-]*([A-Za-z][A-Za-z ]{0,30}?)\s*:\s*(.*?)\s*$/;

export function sectionKey(title: string): string {
  const key = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return SECTION_ALIASES[key] ?? key;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const trimBlankLines = (lines: string[]): string => lines.join('\n').replace(/^\s*\n/, '').trimEnd();

/** `= 1.2.0 - 2024-05-01 =` → "1.2.0"; a heading without a version number is kept whole. */
function entryVersion(heading: string): string {
  return /^(?:version\s*)?v?(\d[0-9A-Za-z.+_-]*)/i.exec(heading)?.[1] ?? heading;
}

/** Splits a changelog-like section into `= heading =` entries, in document order. */
export function parseEntries(text: string): ChangelogEntry[] {
  const entries: { version: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = ENTRY_RE.exec(line);
    const heading = m ? (m[1] ?? m[2] ?? '').trim() : '';
    if (heading !== '') entries.push({ version: entryVersion(heading), lines: [] });
    else entries[entries.length - 1]?.lines.push(line);
  }
  return entries.map((e) => ({ version: e.version, body: trimBlankLines(e.lines).trim() }));
}

export function parseReadme(input: string): ReadmeInfo {
  const lines = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;

  let name: string | null = null;
  const title = TITLE_RE.exec(lines[i] ?? '');
  if (title && !SECTION_RE.test(lines[i] ?? '')) {
    name = (title[1] ?? title[2] ?? '').trim() || null;
    i++;
  }

  // Headers run until a blank line (after at least one header), a heading, or a line that is not `Key: value`.
  const headers: Partial<Record<HeaderField, string>> = {};
  let sawHeader = false;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      if (sawHeader) break;
      continue;
    }
    if (SECTION_RE.test(line) || /^\s*[=#]/.test(line)) break;
    const m = HEADER_RE.exec(line.replace(/\*\*|__/g, ''));
    if (!m) break;
    sawHeader = true;
    const field = HEADER_KEYS[m[1]!.toLowerCase().replace(/\s+/g, ' ')];
    if (field && headers[field] === undefined && m[2] !== '') headers[field] = m[2]!;
  }

  // The short description is the first paragraph before the first section.
  const intro: string[] = [];
  for (; i < lines.length && !SECTION_RE.test(lines[i]!); i++) {
    const line = lines[i]!.trim();
    if (line === '' && intro.length > 0) {
      while (i < lines.length && !SECTION_RE.test(lines[i]!)) i++;
      break;
    }
    if (line !== '') intro.push(line);
  }

  const sectionList: [string, string[]][] = [];
  let current: string[] | null = null;
  for (; i < lines.length; i++) {
    const m = SECTION_RE.exec(lines[i]!);
    if (m) {
      const key = sectionKey(m[1] ?? m[2] ?? '');
      const existing = sectionList.find(([k]) => k === key);
      current = existing ? existing[1] : [];
      if (!existing && key !== '') sectionList.push([key, current]);
    } else {
      current?.push(lines[i]!);
    }
  }
  // fromEntries defines own properties, so a section named like an Object.prototype key stays data.
  const sections: Record<string, string> = Object.fromEntries(sectionList.map(([k, body]) => [k, trimBlankLines(body)]));

  const notices = parseEntries(sections.upgrade_notice ?? '').reverse(); // reversed so the first (newest) wins
  return {
    name,
    contributors: list(headers.contributors ?? ''),
    donateLink: headers.donateLink ?? null,
    tags: list(headers.tags ?? ''),
    requires: headers.requires ?? null,
    tested: headers.tested ?? null,
    requiresPhp: headers.requiresPhp ?? null,
    stableTag: headers.stableTag ?? null,
    license: headers.license ?? null,
    licenseUri: headers.licenseUri ?? null,
    shortDescription: intro.length > 0 ? intro.join(' ') : null,
    sections,
    changelog: parseEntries(sections.changelog ?? ''),
    upgradeNotice: Object.fromEntries(notices.filter((n) => n.body !== '').map((n) => [n.version, n.body])),
  };
}
