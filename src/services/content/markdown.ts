/** Markdown → HTML for text vendors write (descriptions, readme sections): markdown-it, then the section sanitizer. */
import MarkdownIt from 'markdown-it';
import { bounded, sanitizeSectionHtml } from './html-sanitizer';

/** Longer text is cut before rendering: twice the longest product field, and it bounds the time one render takes. */
export const MAX_MARKDOWN_CHARS = 200_000;

const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

// markdown-it parses in linear time; raw HTML in the source stays text (html: false), nothing is auto-linked.
const md = new MarkdownIt('default', { html: false, linkify: false, typographer: false, breaks: false });
// Tables, strikethrough and rules would become tags WordPress strips; leaving their source text reads better.
md.disable(['table', 'strikethrough', 'hr']);
// A link or image with any other destination is left as the text the vendor wrote.
md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());

/** Markdown → HTML that passes WordPress's plugin-section allowlist unchanged. Never throws on any string. */
export function markdownToSafeHtml(text: string): string {
  if (text.trim() === '') return '';
  return sanitizeSectionHtml(md.render(bounded(text, MAX_MARKDOWN_CHARS)));
}
