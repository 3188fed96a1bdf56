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

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** _cleanup_header_comment(): drop a closing `*\/` or `?>` and everything after, then PHP's trim(). */
function cleanup(value: string): string {
  return value.replace(/[ \t\n\v\f\r]*(?:\*\/|\?>)[^]*$/, '').replace(/^[ \t\n\r\0\v]+|[ \t\n\r\0\v]+$/g, '');
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
    const re = new RegExp(`^(?:[ \\t]*<\\?php)?[ \\t/*#@]*${escapeRegExp(headers[key])}:([^]*)$`, 'i');
    let value = '';
    for (const line of lines) {
      const m = re.exec(line);
      if (!m) continue;
      // PHP's `&& $match[1]`: an empty or "0" capture counts as no value.
      const raw = m[1] ?? '';
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
