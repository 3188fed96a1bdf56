/**
 * Paste from Word and Google Docs, cleaned before the editor's schema reads it (the schema then keeps only
 * headings, lists, bold/italic, links, code and quotes; the server sanitizes again whatever arrives).
 */
const DROP = 'style, script, meta, link, title, xml, template, iframe, object, embed, svg, math, img';

export function cleanPastedHtml(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll(DROP).forEach((el) => el.remove());
  // Comments (Word's conditional ones among them).
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_COMMENT);
  const comments: Node[] = [];
  while (walker.nextNode()) comments.push(walker.currentNode);
  comments.forEach((c) => c.parentNode?.removeChild(c));
  // Google Docs wraps the whole clipboard in <b style="font-weight:normal" id="docs-internal-guid-…">.
  doc.querySelectorAll('b[id^="docs-internal-guid"]').forEach((b) => b.replaceWith(...Array.from(b.childNodes)));
  // Word: <o:p> placeholders, and list bullets typed as text inside mso-list:Ignore spans.
  doc.querySelectorAll('o\\:p').forEach((el) => el.remove());
  wordLists(doc);
  return doc.body.innerHTML;
}

/** Word's "list" paragraphs (class MsoListParagraph…, style mso-list) become real lists. */
function wordLists(doc: Document): void {
  const isItem = (el: Element | null): el is HTMLElement =>
    !!el && el.tagName === 'P' && (/MsoListParagraph/i.test(el.className) || /mso-list/i.test(el.getAttribute('style') ?? ''));
  doc.querySelectorAll('p').forEach((p) => {
    if (!isItem(p) || isItem(p.previousElementSibling)) return;
    const items: HTMLElement[] = [];
    for (let el: Element | null = p; isItem(el); el = el.nextElementSibling) items.push(el);
    const marker = items[0]!.querySelector('span[style*="mso-list"]')?.textContent ?? '';
    const list = doc.createElement(/^\s*[0-9a-z]+[.)]/i.test(marker) ? 'ol' : 'ul');
    p.before(list);
    for (const item of items) {
      item.querySelectorAll('span[style*="mso-list"]').forEach((s) => s.remove());
      const li = doc.createElement('li');
      li.append(...Array.from(item.childNodes));
      list.append(li);
      item.remove();
    }
  });
}
