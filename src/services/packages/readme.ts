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

/** A heading line such as `== Title ==` or `## Title ##`: its marker, how many open and close it, and its text. */
export interface HeadingLine {
  marker: '=' | '#';
  level: number;
  closing: number;
  text: string;
}

const isSpace = (c: string | undefined): boolean => c !== undefined && c.trim() === '';

/**
 * Classifies one line with run lengths and trims only (no regex can backtrack on hostile input).
 * `=` headings need a closing run of `=`; `#` headings need whitespace after the opening run; trailing markers are dropped.
 */
export function headingOf(line: string): HeadingLine | null {
  const s = line.trim();
  const marker = s[0];
  if (marker !== '=' && marker !== '#') return null;
  let lead = 0;
  while (s[lead] === marker) lead++;
  if (marker === '#' && !isSpace(s[lead])) return null;
  let end = s.length;
  while (end > lead && s[end - 1] === marker) end--;
  if (marker === '=' && end === s.length) return null;
  const text = s.slice(lead, end).trim();
  return text === '' ? null : { marker, level: lead, closing: s.length - end, text };
}

/** `== Section ==` or `## Section`. */
const sectionHeading = (h: HeadingLine | null): string | null => (h && h.level === 2 && (h.marker === '#' || h.closing >= 2) ? h.text : null);
/** `=== Name ===` or `# Name`. */
const titleHeading = (h: HeadingLine | null): string | null => (h && (h.marker === '=' ? h.level >= 3 && h.closing >= 2 : h.level === 1) ? h.text : null);
/** `= 1.2 =` or `### 1.2`. */
const entryHeading = (h: HeadingLine | null): string | null => (h && (h.marker === '=' ? h.level === 1 : h.level === 3 || h.level === 4) ? h.text : null);
const isSection = (line: string): boolean => sectionHeading(headingOf(line)) !== null;

const HEADER_KEY = /^[A-Za-z][A-Za-z ]{0,30}$/;

/** `Key: value` (optionally bulleted or bold), or null. */
function headerOf(line: string): [string, string] | null {
  const s = line.replace(/\*\*|__/g, '');
  let i = 0;
  while (i < s.length && (s[i] === '*' || s[i] === '-' || isSpace(s[i]))) i++;
  const colon = s.indexOf(':', i);
  if (colon < 0) return null;
  const key = s.slice(i, colon).trimEnd();
  return HEADER_KEY.test(key) ? [key, s.slice(colon + 1).trim()] : null;
}

export function sectionKey(title: string): string {
  const key = title.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  let start = 0;
  let end = key.length;
  while (start < end && key[start] === '_') start++;
  while (end > start && key[end - 1] === '_') end--;
  const trimmed = key.slice(start, end);
  return Object.hasOwn(SECTION_ALIASES, trimmed) ? SECTION_ALIASES[trimmed]! : trimmed;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Drops leading blank lines and trailing whitespace. */
function trimBlankLines(lines: string[]): string {
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  return lines.slice(first).join('\n').trimEnd();
}

/** `= 1.2.0 - 2024-05-01 =` → "1.2.0"; a heading without a version number is kept whole. */
function entryVersion(heading: string): string {
  // Anchored, and each part is a distinct character class: linear.
  return /^(?:version\s*)?v?(\d[0-9A-Za-z.+_-]*)/i.exec(heading)?.[1] ?? heading;
}

/** Splits a changelog-like section into `= heading =` entries, in document order. */
export function parseEntries(text: string): ChangelogEntry[] {
  const entries: { version: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    const heading = entryHeading(headingOf(line));
    if (heading !== null) entries.push({ version: entryVersion(heading), lines: [] });
    else entries[entries.length - 1]?.lines.push(line);
  }
  return entries.map((e) => ({ version: e.version, body: trimBlankLines(e.lines).trim() }));
}

/** readme.txt of any size is cut here (the zip reader already reads at most 512 KiB of it). */
export const MAX_README_CHARS = 1024 * 1024;

/** Linear in the input: lines are split once, then each is classified by headingOf/headerOf. */
export function parseReadme(input: string): ReadmeInfo {
  const text = input.length > MAX_README_CHARS ? input.slice(0, MAX_README_CHARS) : input;
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;

  let name: string | null = null;
  const title = titleHeading(headingOf(lines[i] ?? ''));
  if (title !== null) {
    name = title;
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
    const first = line.trimStart()[0];
    if (first === '=' || first === '#') break;
    const header = headerOf(line);
    if (!header) break;
    sawHeader = true;
    const key = header[0].toLowerCase().replace(/\s+/g, ' ');
    // Own keys only: a header named "constructor" must not find Object.prototype's.
    const field = Object.hasOwn(HEADER_KEYS, key) ? HEADER_KEYS[key] : undefined;
    if (field && headers[field] === undefined && header[1] !== '') headers[field] = header[1];
  }

  // The short description is the first paragraph before the first section.
  const intro: string[] = [];
  for (; i < lines.length && !isSection(lines[i]!); i++) {
    const line = lines[i]!.trim();
    if (line === '' && intro.length > 0) {
      while (i < lines.length && !isSection(lines[i]!)) i++;
      break;
    }
    if (line !== '') intro.push(line);
  }

  // A Map keeps document order and finds a repeated section in O(1) (a list search was quadratic in the section count).
  const sectionLines = new Map<string, string[]>();
  let current: string[] | null = null;
  for (; i < lines.length; i++) {
    const heading = sectionHeading(headingOf(lines[i]!));
    if (heading !== null) {
      const key = sectionKey(heading);
      current = sectionLines.get(key) ?? [];
      if (key !== '' && !sectionLines.has(key)) sectionLines.set(key, current);
    } else {
      current?.push(lines[i]!);
    }
  }
  // fromEntries defines own properties, so a section named like an Object.prototype key stays data.
  const sections: Record<string, string> = Object.fromEntries([...sectionLines].map(([k, body]) => [k, trimBlankLines(body)]));

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
