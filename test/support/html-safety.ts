import { WORDPRESS_SECTION_TAGS } from '../../src/services/content/html-sanitizer';

/**
 * What is wrong with sanitized HTML, judged independently of the sanitizer: every `<` must open an allowlisted
 * tag with allowlisted attributes, no `on*` handler, and URL attributes must be http(s) (links: or mailto).
 * Serialized output escapes every `<` in text, so scanning for `<` finds every tag.
 */
export function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const allowed = new Map(Object.entries(WORDPRESS_SECTION_TAGS));
  for (let at = html.indexOf('<'); at >= 0; at = html.indexOf('<', at + 1)) {
    const end = html.indexOf('>', at);
    if (end < 0) {
      problems.push(`unclosed "<" at ${at}`);
      break;
    }
    const tag = html.slice(at + 1, end);
    const parsed = parseTag(tag);
    if (!parsed) {
      problems.push(`not a tag: <${tag.slice(0, 80)}>`);
      continue;
    }
    const { name, attributes } = parsed;
    if (!allowed.has(name)) problems.push(`tag <${name}>`);
    for (const [attr, value] of attributes) {
      if (/^on/i.test(attr) || !allowed.get(name)?.includes(attr)) problems.push(`attribute ${attr} on <${name}>`);
      if (attr === 'href' && !/^(?:https?:\/\/|mailto:)/i.test(value)) problems.push(`href="${value.slice(0, 80)}"`);
      if ((attr === 'src' || attr === 'cite') && !/^https?:\/\//i.test(value)) problems.push(`${attr}="${value.slice(0, 80)}"`);
      if (/javascript:|vbscript:|data:/i.test(value)) problems.push(`${attr}="${value.slice(0, 80)}"`);
    }
  }
  if (/<script/i.test(html)) problems.push('<script');
  return problems;
}

/** `name attr="value" …` (or `/name`) as serializers write it, read by a linear scan; null when it is anything else. */
function parseTag(tag: string): { name: string; attributes: [string, string][] } | null {
  const body = tag.startsWith('/') ? tag.slice(1) : tag;
  const nameMatch = /^[a-z][a-z0-9]*/.exec(body);
  if (!nameMatch) return null;
  const attributes: [string, string][] = [];
  let i = nameMatch[0].length;
  for (;;) {
    const start = i;
    while (i < body.length && /\s/.test(body[i]!)) i++;
    if (i === body.length || (body[i] === '/' && i === body.length - 1)) return { name: nameMatch[0], attributes };
    if (i === start) return null;
    const nameStart = i;
    while (i < body.length && !/[\s="'/>]/.test(body[i]!)) i++;
    if (i === nameStart) return null;
    const attr = body.slice(nameStart, i);
    let value = '';
    if (body[i] === '=') {
      if (body[i + 1] !== '"') return null;
      const close = body.indexOf('"', i + 2);
      if (close < 0) return null;
      value = body.slice(i + 2, close);
      i = close + 1;
    }
    attributes.push([attr, value]);
  }
}
