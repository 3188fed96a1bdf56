import fc from 'fast-check';
import { MAX_MARKDOWN_CHARS, markdownToSafeHtml } from '../../../src/services/content/markdown';
import { readmeToHtml } from '../../../src/services/packages/readme-html';
import { hostileString } from '../../support/hostile-strings';
import { htmlProblems } from '../../support/html-safety';
import { pathologicalTexts } from '../../support/pathological';
import { expectWithinSync } from '../../support/timing';

const compact = (html: string): string => html.replace(/>\n+</g, '><').trim();

describe('markdownToSafeHtml', () => {
  it('renders CommonMark: headings, emphasis, lists, quotes, code, links and images', () => {
    const html = markdownToSafeHtml('# Title\n\nSome *em* and **strong** `code`.\n\n- a\n  - b\n\n> quoted\n\n```js\nlet x = 1 < 2;\n```\n\n[site](https://example.com "Site") ![logo](https://example.com/l.png "t")');
    expect(compact(html)).toBe(
      '<h1>Title</h1><p>Some <em>em</em> and <strong>strong</strong> <code>code</code>.</p><ul><li>a\n<ul><li>b</li></ul></li></ul>' +
        '<blockquote><p>quoted</p></blockquote><pre><code>let x = 1 &lt; 2;\n</code></pre>' +
        '<p><a href="https://example.com" title="Site">site</a> <img src="https://example.com/l.png" alt="logo" /></p>',
    );
  });

  it('keeps raw HTML as visible text and drops what WordPress would strip (tables, strikethrough, rules stay source text)', () => {
    expect(compact(markdownToSafeHtml('<b onclick="x">hi</b>'))).toBe('<p>&lt;b onclick="x"&gt;hi&lt;/b&gt;</p>');
    expect(compact(markdownToSafeHtml('| a |\n|---|\n| 1 |\n\n~~gone~~\n\n***'))).toBe('<p>| a |\n|---|\n| 1 |</p><p>~~gone~~</p><p>***</p>');
  });

  it('never emits a link or image to anything but http(s), and links to mailto', () => {
    for (const url of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', ' javascript:alert(1)', 'vbscript:x', 'data:text/html;base64,PHNjcmlwdD4=', 'file:///etc/passwd', '//evil.example', '/relative', '#faq', '&#106;avascript:alert(1)', 'java%0ascript:alert(1)']) {
      const html = markdownToSafeHtml(`[x](${url}) ![y](${url}) <${url}>\n\n[ref]\n\n[ref]: ${url}`);
      expect({ url, html, problems: htmlProblems(html) }).toEqual({ url, html: expect.not.stringMatching(/<a |<img /), problems: [] });
    }
    expect(markdownToSafeHtml('![x](mailto:a@example.com)')).not.toContain('<img');
    expect(markdownToSafeHtml('<mailto:a@example.com>')).toContain('<a href="mailto:a@example.com">');
  });

  it('returns an empty string for blank text', () => {
    expect(markdownToSafeHtml('')).toBe('');
    expect(markdownToSafeHtml(' \n\t\n')).toBe('');
  });

  it(`cuts text longer than ${MAX_MARKDOWN_CHARS} characters instead of rendering it all`, () => {
    const html = markdownToSafeHtml(`${'word '.repeat(MAX_MARKDOWN_CHARS / 5)}TAIL`);
    expect(html.startsWith('<p>word word')).toBe(true);
    expect(html).not.toContain('TAIL');
  });

  it('renders the description from the report (`# a`, 3,000 spaces, `b`: 11.6 s before) within 2 s', () => {
    const text = `# a${' '.repeat(3000)}b`;
    let html = '';
    expectWithinSync(2000, () => (html = markdownToSafeHtml(text)));
    expect(html).toBe(`<h1>a${' '.repeat(3000)}b</h1>\n`);
  });

  describe('on 100,000-character pathological input', () => {
    it.each(Object.entries(pathologicalTexts()))('%s renders within 2 s, as clean HTML', (_name, text) => {
      for (const render of [markdownToSafeHtml, readmeToHtml]) {
        let html = '';
        expectWithinSync(2000, () => (html = render(text)));
        expect(htmlProblems(html)).toEqual([]);
      }
    });
  });

  it('never throws and always produces clean HTML, for random and adversarial text (fast-check)', () => {
    fc.assert(
      fc.property(hostileString(), (text) => {
        for (const html of [markdownToSafeHtml(text), readmeToHtml(text)]) {
          expect(htmlProblems(html)).toEqual([]);
          expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
