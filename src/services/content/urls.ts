/** URLs Wharf hands to browsers and WordPress: absolute http(s) only, so no `javascript:` or `data:` ever leaves. */

const MAX_URL_CHARS = 2048;
// Anchored, one quantified class: linear. A host right after `//`; no space, quote, angle bracket, backslash or control.
const HTTP_URL = /^https?:\/\/[^\s"'<>\\`/\u0000-\u001f\u007f][^\s"'<>\\`\u0000-\u001f\u007f]*$/i;

/** The URL as given when it is an absolute http(s) URL with a host, else null (the field is then left out). */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_URL_CHARS || !HTTP_URL.test(value)) return null;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? value : null;
  } catch {
    return null;
  }
}
