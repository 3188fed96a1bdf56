/**
 * Paste from Word and Google Docs, cleaned before the editor's schema reads it (the schema then keeps only
 * headings, lists, bold/italic, links, code and quotes; the server sanitizes again whatever arrives).
 */
const DROP = 'x-style, style, script, meta, link, title, xml, template, iframe, object, embed, svg, math, img';

/**
 * Style and event attributes are renamed before any parsing: even an inert document parsed here answers to this
 * page's CSP, which would report (and block) each one as a violation; <style> elements become inert <x-style> ones.
 * Only tags are touched, never text.
 */
function defuse(html: string): string {
  return html.replace(/<(\/?)style\b/gi, '<$1x-style').replace(/<[a-zA-Z][^>]*>/g, (tag) => tag.replace(/(\s)(style|on[a-zA-Z]+)(\s*=)/g, '$1data-x-$2$3'));
}

export function cleanPastedHtml(html: string): string {
  const doc = new DOMParser().parseFromString(defuse(html), 'text/html');
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
  stylesToTags(doc);
  // No style or event attributes reach the editor's parser (which reads them in a document under this page's CSP).
  doc.body.querySelectorAll('*').forEach((el) => {
    for (const attr of Array.from(el.attributes)) {
      if (attr.name.startsWith('data-') || attr.name === 'style' || attr.name === 'class' || attr.name.startsWith('on')) el.removeAttribute(attr.name);
      else if ((attr.name === 'href' || attr.name === 'src') && !/^(?:https?:|mailto:)/i.test(attr.value.trim())) el.removeAttribute(attr.name);
    }
  });
  return doc.body.innerHTML;
}

/** Google Docs and Word mark bold and italic with inline styles: made tags, before styles go. Read as text, never applied. */
function stylesToTags(doc: Document): void {
  doc.body.querySelectorAll('span[data-x-style]').forEach((span) => {
    const style = (span.getAttribute('data-x-style') ?? '').toLowerCase();
    let inner: Node[] = Array.from(span.childNodes);
    const wrap = (tag: string) => {
      const el = doc.createElement(tag);
      el.append(...inner);
      inner = [el];
    };
    if (/font-weight\s*:\s*(bold|[6-9]00)/.test(style)) wrap('strong');
    if (/font-style\s*:\s*italic/.test(style)) wrap('em');
    span.replaceChildren(...inner);
  });
}

/** Word's "list" paragraphs (class MsoListParagraph…, style mso-list) become real lists. */
function wordLists(doc: Document): void {
  const isItem = (el: Element | null): el is HTMLElement =>
    !!el && el.tagName === 'P' && (/MsoListParagraph/i.test(el.className) || /mso-list/i.test(el.getAttribute('data-x-style') ?? ''));
  doc.querySelectorAll('p').forEach((p) => {
    if (!isItem(p) || isItem(p.previousElementSibling)) return;
    const items: HTMLElement[] = [];
    for (let el: Element | null = p; isItem(el); el = el.nextElementSibling) items.push(el);
    const marker = items[0]!.querySelector('span[data-x-style*="mso-list"]')?.textContent ?? '';
    const list = doc.createElement(/^\s*[0-9a-z]+[.)]/i.test(marker) ? 'ol' : 'ul');
    p.before(list);
    for (const item of items) {
      item.querySelectorAll('span[data-x-style*="mso-list"]').forEach((s) => s.remove());
      const li = doc.createElement('li');
      li.append(...Array.from(item.childNodes));
      list.append(li);
      item.remove();
    }
  });
}
