import fc from 'fast-check';
import { escapeHtml, MAX_SECTION_HTML_CHARS, sanitizeSectionHtml } from '../../../src/services/content/html-sanitizer';
import { safeHttpUrl } from '../../../src/services/content/urls';
import { hostileString } from '../../support/hostile-strings';
import { htmlProblems } from '../../support/html-safety';
import { expectWithinSync } from '../../support/timing';

describe('sanitizeSectionHtml', () => {
  it('keeps the tags and attributes WordPress allows in plugin sections', () => {
    const html =
      '<h2>T</h2><p>a<br>b <em>e</em> <strong>s</strong> <code>c</code> <abbr title="t">A</abbr> <acronym title="t">B</acronym></p>' +
      '<div class="x"><span class="y">s</span></div><ul><li>1</li></ul><ol><li>2</li></ol><pre>p</pre>' +
      '<blockquote cite="https://q.example">q</blockquote><a href="https://a.example" title="t" target="_blank">l</a>' +
      '<img src="https://i.example/x.png" class="c" alt="a">';
    expect(sanitizeSectionHtml(html)).toBe(html.replace('<br>', '<br />').replace('alt="a">', 'alt="a" />'));
  });

  it('drops scripts with their content, event handlers, styles, ids, rel and unknown tags (keeping their text)', () => {
    expect(sanitizeSectionHtml('<p onclick="x" style="color:red" id="i">a<script>alert(1)</script><style>p{}</style></p>')).toBe('<p>a</p>');
    expect(sanitizeSectionHtml('<a href="https://a.example" rel="opener" onmouseover="x">l</a>')).toBe('<a href="https://a.example">l</a>');
    expect(sanitizeSectionHtml('<table><tr><td>cell</td></tr></table><hr><iframe src="https://x.example">f</iframe><svg><g>t</g></svg>')).toBe('cellt');
    expect(sanitizeSectionHtml('<scr<script>ipt>alert(1)</script>')).not.toMatch(/<script/i);
  });

  it('keeps only http(s) URLs (and mailto: for links); others lose the attribute', () => {
    const bad = ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:x', '&#106;avascript:x', 'vbscript:x', 'data:text/html,x', '//evil.example', '/relative', '#frag', 'ftp://f.example', 'tel:123'];
    for (const url of bad) {
      const html = sanitizeSectionHtml(`<a href="${url}">l</a><img src="${url}" alt="i"><blockquote cite="${url}">q</blockquote>`);
      expect({ url, html }).toEqual({ url, html: '<a>l</a><blockquote>q</blockquote>' });
    }
    expect(sanitizeSectionHtml('<a href=" https://a.example/x ">l</a>')).toBe('<a href="https://a.example/x">l</a>');
    expect(sanitizeSectionHtml('<a href="mailto:a@b.example">m</a><img src="mailto:a@b.example">')).toBe('<a href="mailto:a@b.example">m</a>');
  });

  it('escapes text, strips control characters, and closes what is left open', () => {
    expect(sanitizeSectionHtml('a < b & "c"\u0000\u0007 <p>open')).toBe('a &lt; b &amp; "c" <p>open</p>');
  });

  it(`cuts input longer than ${MAX_SECTION_HTML_CHARS} characters, and stays linear on hostile HTML`, () => {
    expect(sanitizeSectionHtml(`${'a'.repeat(MAX_SECTION_HTML_CHARS)}TAIL`)).not.toContain('TAIL');
    for (const html of ['<'.repeat(100_000), '<a '.repeat(33_000), '<div>'.repeat(20_000), `<a title="${'"'.repeat(100_000)}">`, '<!--'.repeat(25_000), '&#'.repeat(50_000)]) {
      let out = '';
      expectWithinSync(2000, () => (out = sanitizeSectionHtml(html)));
      expect(htmlProblems(out)).toEqual([]);
    }
  });

  it('never throws and always produces clean HTML, for random and adversarial HTML (fast-check)', () => {
    fc.assert(
      fc.property(hostileString(), (html) => {
        const out = sanitizeSectionHtml(html);
        expect(htmlProblems(out)).toEqual([]);
        expect(htmlProblems(sanitizeSectionHtml(out))).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`Tom & Jerry's <b>"best"</b>`)).toBe('Tom &amp; Jerry&#39;s &lt;b&gt;&quot;best&quot;&lt;/b&gt;');
  });
});

describe('safeHttpUrl', () => {
  it('passes absolute http(s) URLs through unchanged', () => {
    for (const url of ['https://acme.test', 'http://acme.test/p?a=1&b=2#x', 'HTTPS://ACME.TEST/Path', 'https://[::1]:8080/x']) expect(safeHttpUrl(url)).toBe(url);
  });

  it('refuses everything else', () => {
    const bad = ['javascript:alert(1)', ' https://a.test', 'https://a.test/ x', 'https://a.test/"onload="x', "https://a.test/'", 'https://a.test/<x>', 'https://a.test/\u0000', 'data:text/html,x', '//a.test', '/p', 'https://', 'http:///x', 'ftp://a.test', `https://a.test/${'a'.repeat(2100)}`, '', null, undefined, 42];
    for (const url of bad) expect({ url, out: safeHttpUrl(url) }).toEqual({ url, out: null });
  });
});
