/** A deliberately small readme/markdown → HTML converter for PUC `sections`: everything is escaped first. */

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const HEADING_RE = /^\s*(?:=+\s*([^=].*?)\s*=+|#{1,6}\s+(.+?)\s*#*)\s*$/;
const BULLET_RE = /^\s*[*\-+]\s+(.*)$/;
const NUMBERED_RE = /^\s*\d{1,9}[.)]\s+(.*)$/;
const FENCE_RE = /^\s*```/;

// Placeholders use NUL, which is stripped from the input, so no text can forge one.
const token = (n: number): string => `\u0000${n}\u0000`;

/** Inline markup on already-escaped text: `code`, [text](http(s) url), **bold**, *em*. */
function inline(escaped: string): string {
  const saved: string[] = [];
  const keep = (html: string): string => token(saved.push(html) - 1);
  let s = escaped.replace(/`([^`]+)`/g, (_m, code: string) => keep(`<code>${code}</code>`));
  // Only http(s) URLs become links; anything else (javascript:, data:) stays as plain escaped text.
  s = s.replace(/\[([^\]]+)\]\((https?:\/\/[^\s()]+)\)/gi, (_m, text: string, url: string) =>
    keep(`<a href="${url}" rel="nofollow noopener">${emphasis(text)}</a>`),
  );
  s = emphasis(s);
  // Saved HTML may hold earlier tokens (code inside link text), so restore until none are left.
  for (let depth = 0; depth < 3 && s.includes('\u0000'); depth++) s = s.replace(/\u0000(\d+)\u0000/g, (_m, n: string) => saved[Number(n)] ?? '');
  return s;
}

function emphasis(s: string): string {
  return s.replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, '<strong>$1</strong>').replace(/\*(?=\S)([^*]*?\S)\*/g, '<em>$1</em>');
}

/** Converts readme.txt section text (a markdown subset) to safe HTML. */
export function readmeToHtml(markdownish: string): string {
  const lines = markdownish.replace(/\u0000/g, '').replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  let listTag: 'ul' | 'ol' | null = null;
  let items: string[] = [];

  const flushParagraph = (): void => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map((l) => inline(escapeHtml(l))).join('\n')}</p>`);
    paragraph = [];
  };
  const flushList = (): void => {
    if (listTag) out.push(`<${listTag}>${items.map((it) => `<li>${inline(escapeHtml(it))}</li>`).join('')}</${listTag}>`);
    listTag = null;
    items = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE_RE.test(line)) {
      flushParagraph();
      flushList();
      const code: string[] = [];
      for (i++; i < lines.length && !FENCE_RE.test(lines[i]!); i++) code.push(lines[i]!);
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    if (line.trim() === '') {
      flushParagraph();
      flushList();
      continue;
    }
    const heading = HEADING_RE.exec(line);
    if (heading) {
      flushParagraph();
      flushList();
      out.push(`<h4>${inline(escapeHtml((heading[1] ?? heading[2] ?? '').trim()))}</h4>`);
      continue;
    }
    const bullet = BULLET_RE.exec(line);
    const numbered = bullet ? null : NUMBERED_RE.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      flushParagraph();
      const tag = bullet ? 'ul' : 'ol';
      if (listTag !== tag) flushList();
      listTag = tag;
      items.push(item[1]!.trim());
      continue;
    }
    if (listTag && /^\s/.test(line)) {
      // An indented line continues the previous list item.
      items[items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    flushList();
    paragraph.push(line.trim());
  }
  flushParagraph();
  flushList();
  return out.join('\n');
}
