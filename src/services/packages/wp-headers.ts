/** WordPress file headers, parsed exactly as core's get_file_data() does, so Wharf sees what WordPress sees. */

/** get_file_data() reads only this many bytes of a file. */
export const HEADER_BYTES = 8 * 1024;

export const PLUGIN_HEADERS = {
  name: 'Plugin Name',
  pluginUri: 'Plugin URI',
  version: 'Version',
  description: 'Description',
  author: 'Author',
  authorUri: 'Author URI',
  requiresWp: 'Requires at least',
  testedUpTo: 'Tested up to',
  requiresPhp: 'Requires PHP',
  textDomain: 'Text Domain',
  updateUri: 'Update URI',
} as const;

export const THEME_HEADERS = {
  name: 'Theme Name',
  themeUri: 'Theme URI',
  version: 'Version',
  description: 'Description',
  author: 'Author',
  authorUri: 'Author URI',
  requiresWp: 'Requires at least',
  testedUpTo: 'Tested up to',
  requiresPhp: 'Requires PHP',
  template: 'Template',
} as const;

/** Each header's value, '' when absent (as in WordPress). */
export type PluginHeaders = Record<keyof typeof PLUGIN_HEADERS, string>;
export type ThemeHeaders = Record<keyof typeof THEME_HEADERS, string>;

// Matched by scanning, not by regex: a header line is untrusted text, and scans are linear by construction.
const HEADER_PREFIX = new Set([' ', '\t', '/', '*', '#', '@']);
const COMMENT_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);
const PHP_TRIM = new Set([' ', '\t', '\n', '\r', '\0', '\v']);

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** `text` at `at` equals `word`, ASCII letters compared case-insensitively (as PCRE's /i does for them). */
function startsWithIgnoreCase(text: string, at: number, word: string): boolean {
  if (at + word.length > text.length) return false;
  for (let j = 0; j < word.length; j++) {
    const a = text.charCodeAt(at + j);
    const b = word.charCodeAt(j);
    if (a === b) continue;
    if (!isLetter(a) || !isLetter(b) || (a | 32) !== (b | 32)) return false;
  }
  return true;
}

/** After `[ \t/*#@]*` from `at`, `Name:` and the rest of the line; null if the line does not continue so. */
function valueAfter(line: string, at: number, name: string): string | null {
  let i = at;
  while (i < line.length && HEADER_PREFIX.has(line[i]!)) i++;
  return startsWithIgnoreCase(line, i, `${name}:`) ? line.slice(i + name.length + 1) : null;
}

/**
 * The capture of `^(?:[ \t]*<\?php)?[ \t/*#@]*Name:(.*)$` (case-insensitive) on one line, or null.
 * Header names start with a letter, so the greedy prefix never has to give characters back.
 */
function headerValue(line: string, name: string): string | null {
  const direct = valueAfter(line, 0, name);
  if (direct !== null) return direct;
  let i = 0;
  while (line[i] === ' ' || line[i] === '\t') i++;
  return startsWithIgnoreCase(line, i, '<?php') ? valueAfter(line, i + 5, name) : null;
}

/** _cleanup_header_comment(): drop the first `*\/` or `?>`, the whitespace before it and everything after; then PHP's trim(). */
function cleanup(value: string): string {
  let end = value.length;
  for (const marker of ['*/', '?>']) {
    const at = value.indexOf(marker);
    if (at >= 0 && at < end) end = at;
  }
  if (end < value.length) while (end > 0 && COMMENT_SPACE.has(value[end - 1]!)) end--;
  let start = 0;
  while (start < end && PHP_TRIM.has(value[start]!)) start++;
  while (end > start && PHP_TRIM.has(value[end - 1]!)) end--;
  return value.slice(start, end);
}

/**
 * get_file_data(): the first 8 KiB, CR turned into LF, and for each header the first line matching
 * `^(?:[ \t]*<\?php)?[ \t\/*#@]*Name:(.*)$` case-insensitively; that first match decides, even if empty.
 */
export function parseFileHeaders<K extends string>(data: Buffer | string, headers: Readonly<Record<K, string>>): Record<K, string> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const text = bytes.subarray(0, HEADER_BYTES).toString('utf8').replace(/\r/g, '\n');
  const lines = text.split('\n');
  const out = {} as Record<K, string>;
  for (const key of Object.keys(headers) as K[]) {
    let value = '';
    for (const line of lines) {
      const raw = headerValue(line, headers[key]);
      if (raw === null) continue;
      // PHP's `&& $match[1]`: an empty or "0" capture counts as no value.
      value = raw !== '' && raw !== '0' ? cleanup(raw) : '';
      break;
    }
    out[key] = value;
  }
  return out;
}

export function parsePluginHeaders(data: Buffer | string): PluginHeaders {
  return parseFileHeaders(data, PLUGIN_HEADERS);
}

export function parseThemeHeaders(data: Buffer | string): ThemeHeaders {
  return parseFileHeaders(data, THEME_HEADERS);
}
