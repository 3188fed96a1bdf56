/** readme.txt section text (wordpress.org's Markdown dialect) → safe HTML for PUC `sections` and the details page. */
import { markdownToSafeHtml } from '../content/markdown';
import { headingOf } from './readme';

/** Fences open and close on ``` or ~~~; inside them nothing is rewritten. */
const isFence = (line: string): boolean => {
  const t = line.trimStart();
  return t.startsWith('```') || t.startsWith('~~~');
};

/** Leading spaces before the first non-space, counting a tab as four: four or more is an indented code block. */
function indentOf(line: string): number {
  let n = 0;
  for (const c of line) {
    if (c === ' ') n++;
    else if (c === '\t') n += 4;
    else break;
    if (n >= 4) break;
  }
  return n;
}

/** The readme dialect's one addition to Markdown: a `= Heading =` line is an <h4>, as on wordpress.org. */
export function readmeToMarkdown(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (isFence(line)) fenced = !fenced;
      if (fenced || indentOf(line) >= 4) return line;
      const h = headingOf(line);
      return h && h.marker === '=' ? `#### ${h.text}` : line;
    })
    .join('\n');
}

export function readmeToHtml(text: string): string {
  return markdownToSafeHtml(readmeToMarkdown(text));
}
