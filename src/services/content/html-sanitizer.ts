/** HTML that may reach a WordPress admin screen: sanitize-html, restricted to what WordPress itself lets through. */
import sanitizeHtml from 'sanitize-html';

/**
 * WordPress core's `$plugins_allowedtags` (wp-admin/includes/plugin-install.php, install_plugin_information()):
 * the tags and attributes wp_kses keeps in `plugins_api` sections. Mirrored exactly; a test compares it with
 * the file shipped by Debian's `wordpress` package and runs samples through PHP's wp_kses.
 */
export const WORDPRESS_SECTION_TAGS: Readonly<Record<string, readonly string[]>> = {
  a: ['href', 'title', 'target'],
  abbr: ['title'],
  acronym: ['title'],
  code: [],
  pre: [],
  em: [],
  strong: [],
  div: ['class'],
  span: ['class'],
  p: [],
  br: [],
  ul: [],
  ol: [],
  li: [],
  h1: [],
  h2: [],
  h3: [],
  h4: [],
  h5: [],
  h6: [],
  img: ['src', 'class', 'alt'],
  blockquote: ['cite'],
};

/** Longer input is cut before parsing (the parser closes what the cut leaves open). */
export const MAX_SECTION_HTML_CHARS = 1_000_000;

// Stricter than kses (which also allows ftp:, tel:, irc:, … and relative URLs): absolute http(s), plus mailto: for links.
const LINK_URL = /^(?:https?:\/\/|mailto:)/i;
const MEDIA_URL = /^https?:\/\//i;
// C0 controls other than tab, LF and CR (kses strips NUL too); a class with no quantifier cannot backtrack.
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// Half of a surrogate pair is not text: PHP's json_decode refuses a whole update answer that carries one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The attributes with `name` trimmed, or dropped when it is not an allowed URL (order kept). */
function keepUrl(attribs: sanitizeHtml.Attributes, name: string, allowed: RegExp): sanitizeHtml.Attributes {
  if (attribs[name] === undefined) return attribs;
  const out: sanitizeHtml.Attributes = {};
  for (const [key, value] of Object.entries(attribs)) {
    if (key !== name) out[key] = value;
    else if (allowed.test(value.trim())) out[key] = value.trim();
  }
  return out;
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: Object.keys(WORDPRESS_SECTION_TAGS),
  allowedAttributes: Object.fromEntries(Object.entries(WORDPRESS_SECTION_TAGS).map(([tag, attrs]) => [tag, [...attrs]])),
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'], blockquote: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  allowProtocolRelative: false,
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: keepUrl(attribs, 'href', LINK_URL) }),
    img: (tagName, attribs) => ({ tagName, attribs: keepUrl(attribs, 'src', MEDIA_URL) }),
    blockquote: (tagName, attribs) => ({ tagName, attribs: keepUrl(attribs, 'cite', MEDIA_URL) }),
  },
  // Disallowed tags go and their text stays, as with kses; these tags' contents go too (kses would keep them as text).
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'title', 'xmp', 'iframe', 'noembed', 'noframes'],
  // An image whose source was refused would only show a broken-image icon.
  exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  nestingLimit: 64,
  parseStyleAttributes: false,
  enforceHtmlBoundary: false,
};

/** Cuts at `max` characters without leaving half of a surrogate pair. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

/** Any HTML → HTML WordPress shows unchanged: only its plugin-section allowlist, only http(s)/mailto URLs. */
export function sanitizeSectionHtml(html: string): string {
  return sanitizeHtml(bounded(html, MAX_SECTION_HTML_CHARS).replace(CONTROLS, '').replace(LONE_SURROGATE, '\uFFFD'), OPTIONS);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Plain text → HTML text (for fields WordPress prints as HTML, such as the plugin name). */
export function escapeHtml(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
