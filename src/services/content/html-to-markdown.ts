/** Stored HTML → Markdown, for the editor's no-JavaScript textarea (turndown: the maintained HTML→Markdown converter). */
import TurndownService from 'turndown';

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', emDelimiter: '*' });
// Tags Markdown has no syntax for stay as HTML; the Markdown renderer for vendor text lets them through to the sanitizer.
turndown.keep((node) => node.nodeName === 'ABBR' || node.nodeName === 'ACRONYM');

export function htmlToMarkdown(html: string): string {
  return html.trim() === '' ? '' : turndown.turndown(html);
}

/** Whether two Markdown texts say the same (line endings and trailing spaces aside): an untouched no-JavaScript field. */
export function sameMarkdown(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  return norm(a) === norm(b);
}
