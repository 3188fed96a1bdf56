/** Text vendors write in the editor or send by API: HTML or Markdown in, sanitized HTML out. */
import MarkdownIt from 'markdown-it';
import { bounded, sanitizeSectionHtml } from './html-sanitizer';
import { MAX_MARKDOWN_CHARS } from './markdown';

export type TextFormat = 'html' | 'markdown';

const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

// Unlike readme.txt (where raw HTML stays text), Markdown typed into the editor's no-JavaScript textarea may carry
// HTML, as the field held HTML before: it passes, then the same sanitizer as every other path decides what stays.
const md = new MarkdownIt('default', { html: true, linkify: false, typographer: false, breaks: false });
md.disable(['table', 'strikethrough', 'hr']);
md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());

/** Vendor text → HTML WordPress's plugin-section allowlist keeps unchanged. Never trusts the editor's output. */
export function vendorTextToHtml(text: string, format: TextFormat): string {
  if (text.trim() === '') return '';
  const html = format === 'markdown' ? md.render(bounded(text, MAX_MARKDOWN_CHARS)) : text;
  // Editors leave empty paragraphs behind (a trailing one after a list); they show as nothing but a gap.
  return sanitizeSectionHtml(html).replace(/<p>(?:\s|<br \/>)*<\/p>/g, '').trim();
}
