import fc from 'fast-check';
import sanitizeHtml from 'sanitize-html';
import { sanitizeSectionHtml, WORDPRESS_SECTION_TAGS } from '../../../src/services/content/html-sanitizer';
import { markdownToSafeHtml } from '../../../src/services/content/markdown';
import { readmeToHtml } from '../../../src/services/packages/readme-html';
import { hostileString } from '../../support/hostile-strings';
import { pathologicalTexts } from '../../support/pathological';
import { wpKses } from '../../support/wp-kses';

/**
 * Our section sanitizer against WordPress's own wp_kses with the allowlist its "View details" modal uses
 * (Debian's wordpress package, run by php-cli). Serializations differ (quotes, `<br />`, entity spelling),
 * so both sides are compared after one neutral re-serialization that keeps every tag and attribute.
 */
const canon = (html: string): string =>
  sanitizeHtml(html, { allowedTags: false, allowedAttributes: false, allowVulnerableTags: true, nonTextTags: [], allowedSchemes: false as unknown as string[], parseStyleAttributes: false, enforceHtmlBoundary: false });

test('the allowlist mirrors $plugins_allowedtags in wp-admin/includes/plugin-install.php exactly', () => {
  const { allowed, version } = wpKses([]);
  const theirs = Object.fromEntries(Object.entries(allowed).map(([tag, attrs]) => [tag, Object.keys(attrs).sort()]));
  const ours = Object.fromEntries(Object.entries(WORDPRESS_SECTION_TAGS).map(([tag, attrs]) => [tag, [...attrs].sort()]));
  expect({ version, tags: ours }).toEqual({ version, tags: theirs });
});

// Well-formed HTML with http(s) URLs and no script/style: here WordPress and Wharf must keep exactly the same.
const SAME = [
  '<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>',
  '<p>Text with <em>em</em>, <strong>strong</strong>, <code>code</code>, <abbr title="HyperText">HTML</abbr> and <acronym title="x">Y</acronym>.</p>',
  '<ul><li>one</li><li>two<ol><li>nested</li></ol></li></ul><pre>pre  formatted</pre><br><br/>',
  '<div class="notice x"><span class="y">s</span></div>',
  '<a href="https://example.com/?a=1&amp;b=2" title="T" target="_blank">link</a> <a href="mailto:a@example.com">mail</a>',
  '<img src="https://example.com/a.png" class="screenshot" alt="Screen">',
  '<blockquote cite="https://example.com/q">quote</blockquote>',
  '<p onclick="x" style="color:red" id="i" class="c" data-x="1">attributes WordPress drops</p>',
  '<a href="https://example.com" rel="nofollow" onmouseover="x" download>rel is not on the list</a>',
  '<table><tr><td>cell</td></tr></table><hr><b>bold</b> <i>it</i> <u>u</u> <font color="red">f</font> <section><p>s</p></section>',
  '<P CLASS="x">upper case</P><A HREF="https://example.com">L</A>',
  '&amp; &lt; &gt; &nbsp; &copy; &#169; &#x263A; caf\u00e9 \u2603',
  '<img src="https://example.com/a.png" alt="x" title="title is not allowed on img" width="10">',
];

test('keeps what wp_kses keeps on well-formed section HTML', () => {
  const { outputs } = wpKses(SAME);
  const diffs = SAME.map((html, i) => ({ html, ours: canon(sanitizeSectionHtml(html)), kses: canon(outputs[i]!) })).filter((d) => d.ours !== d.kses);
  expect(diffs).toEqual([]);
});

test('is stricter than wp_kses where Wharf chooses to be: non-http(s) URLs and script/style contents go', () => {
  const samples = ['<a href="javascript:alert(1)">x</a>', '<a href="ftp://f.example">x</a>', '<a href="/relative">x</a>', '<img src="data:image/png;base64,AA" alt="a">', '<p>a<script>alert(1)</script><style>p{}</style></p>'];
  const { outputs } = wpKses(samples);
  expect(samples.map((s) => sanitizeSectionHtml(s))).toEqual(['<a>x</a>', '<a>x</a>', '<a>x</a>', '', '<p>a</p>']);
  // What kses leaves there instead (it strips the scheme, keeps relative URLs and script text).
  expect(outputs).toEqual(['<a href="alert(1)">x</a>', '<a href="ftp://f.example">x</a>', '<a href="/relative">x</a>', '<img src="image/png;base64,AA" alt="a">', '<p>aalert(1)p{}</p>']);
});

test('everything Wharf emits passes through wp_kses unchanged: sanitizer, Markdown, readme sections, pathological and random input', () => {
  const texts = [
    ...SAME,
    ...Object.values(pathologicalTexts(5_000)),
    ...fc.sample(hostileString(), { numRuns: 400, seed: 20261201 }),
    '# Title\n\n* **bold** [link](https://example.com) ![i](https://example.com/i.png)\n\n> quote\n\n```\ncode <b>\n```\n\n= 1.0 =\n1. one',
  ];
  // kses rewrites text that spells a numeric reference (`&amp;#65;` becomes `&#065;`, `&amp;#0;` goes): display-only, tested below.
  const ours = texts.flatMap((t) => [sanitizeSectionHtml(t), markdownToSafeHtml(t), readmeToHtml(t)]).filter((html) => !html.includes('&amp;#'));
  expect(ours.length).toBeGreaterThan(1000);
  const { outputs } = wpKses(ours);
  const changed = ours.map((html, i) => ({ html, kses: outputs[i]! })).filter((d) => canon(d.kses) !== canon(d.html));
  expect(changed.slice(0, 5)).toEqual([]);
});

test("kses's rewriting of escaped numeric references stays text: it never makes markup", () => {
  const ours = sanitizeSectionHtml('&#60;script&#62;alert(1)&#60;/script&#62; &amp;#60;img src=x onerror=alert(1)&amp;#62;');
  const [kses] = wpKses([ours]).outputs;
  expect(kses).toBe('&lt;script&gt;alert(1)&lt;/script&gt; &#060;img src=x onerror=alert(1)&#062;');
  expect(canon(kses!)).not.toMatch(/<(?:script|img)/);
});
