import { assembleChangelog, storedUpgradeNotice } from '../../../src/services/content/changelog';
import { headingVersion, parseChangelogFile } from '../../../src/services/content/changelog-file';
import { vendorTextToHtml } from '../../../src/services/content/vendor-text';
import { versionNotes } from '../../../src/services/content/version-notes';
import { parseReadme } from '../../../src/services/packages/readme';
import { htmlProblems } from '../../support/html-safety';

describe('changelog files', () => {
  it('reads Keep a Changelog, plain Markdown headings and readme-style entries', () => {
    expect(parseChangelogFile('# Changelog\n\nIntro.\n\n## [Unreleased]\n- wip\n\n## [1.2.0] - 2026-01-02\n### Fixed\n- A\n\n## [1.1.0]\n- B\n')).toEqual([
      { version: '1.2.0', body: '### Fixed\n- A' },
      { version: '1.1.0', body: '- B' },
    ]);
    expect(parseChangelogFile('### v2.0\r\n* New\r\n### 1.9 (May 2025)\r\n* Old\r\n')).toEqual([
      { version: '2.0', body: '* New' },
      { version: '1.9', body: '* Old' },
    ]);
    expect(parseChangelogFile('= 3.0 =\n* Three\n\n= 2.0 - 2024 =\n* Two\n')).toEqual([
      { version: '3.0', body: '* Three' },
      { version: '2.0', body: '* Two' },
    ]);
    expect(parseChangelogFile('Just text, no headings.')).toEqual([]);
    expect(headingVersion('Version 1.2.3-beta1 (2024)')).toBe('1.2.3-beta1');
    expect(headingVersion('Unreleased')).toBeNull();
  });

  it('is linear on hostile input', () => {
    const hostile = `${'#'.repeat(50_000)} 1\n${'= '.repeat(50_000)}\n${'## ['.repeat(20_000)}`;
    const started = performance.now();
    parseChangelogFile(hostile);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('version notes at upload', () => {
  const readme = parseReadme('=== X ===\n\nShort one.\n\n== Installation ==\nUpload.\n\n== Changelog ==\n= 1.1 =\n* <script>x</script>Fixed **it**\n\n= 1.0 =\n* First\n\n== Upgrade Notice ==\n= 1.1 =\nDo it.\n');

  it('takes the version\'s own entry and notice from readme.txt, sections as HTML, the short description as description', () => {
    const n = versionNotes('1.1', readme, { name: 'x/CHANGELOG.md', text: '## 1.1\n- ignored: readme wins' });
    expect(n.changelog).toBe('<ul>\n<li>&lt;script&gt;x&lt;/script&gt;Fixed <strong>it</strong></li>\n</ul>');
    expect(n.upgradeNotice).toBe('<p>Do it.</p>');
    expect(n.sections).toEqual([
      { key: 'description', html: '<p>Short one.</p>' },
      { key: 'installation', html: '<p>Upload.</p>' },
    ]);
    expect([...n.entries.keys()]).toEqual(['1.1', '1.0']);
  });

  it('falls back to the changelog file, then to the header description for themes', () => {
    const n = versionNotes('2.0', null, { name: 't/changelog.txt', text: '= 2.0 =\n* Two <b onclick=x>b</b>' }, 'A <theme> & more');
    expect(n.changelog).toBe('<ul>\n<li>Two &lt;b onclick=x&gt;b&lt;/b&gt;</li>\n</ul>');
    expect(n.sections).toEqual([{ key: 'description', html: '<p>A &lt;theme&gt; &amp; more</p>' }]);
    expect(versionNotes('2.0', null, null).changelog).toBe('');
  });
});

describe('changelog assembly', () => {
  const notes = [
    { versionId: 'a', version: '1.2', changelog: '<p>two</p>', upgradeNotice: '' },
    { versionId: 'b', version: '1.10', changelog: '<p>ten</p>', upgradeNotice: '<p>Back up</p>' },
    { versionId: 'c', version: '1.9', changelog: '', upgradeNotice: '' },
    { versionId: 'd', version: '1.0', changelog: '<p>one<script>x</script></p>', upgradeNotice: '' },
  ];

  it('lists versions up to the one offered, newest first by version order, leaving out empty ones', () => {
    expect(assembleChangelog(notes, '1.10')).toBe('<h4>1.10</h4>\n<p>ten</p>\n<h4>1.2</h4>\n<p>two</p>\n<h4>1.0</h4>\n<p>one</p>');
    expect(assembleChangelog(notes, '1.2')).toBe('<h4>1.2</h4>\n<p>two</p>\n<h4>1.0</h4>\n<p>one</p>');
    expect(assembleChangelog([], '1.0')).toBe('');
  });

  it('gives the stored notice of the offered version, undefined for versions without stored text', () => {
    expect(storedUpgradeNotice(notes, 'b')).toBe('<p>Back up</p>');
    expect(storedUpgradeNotice(notes, 'a')).toBe('');
    expect(storedUpgradeNotice(notes, 'zz')).toBeUndefined();
  });
});

describe('vendor text (editor and API)', () => {
  it('keeps formatting and drops what WordPress would not show, from HTML and Markdown alike', () => {
    const html = '<h2>T</h2><ul><li><p><strong>b</strong> <em>i</em> <code>c</code> <a href="https://x.test">l</a></p></li></ul><pre><code>x</code></pre><blockquote><p>q</p></blockquote><p></p>';
    expect(vendorTextToHtml(html, 'html')).toBe('<h2>T</h2><ul><li><p><strong>b</strong> <em>i</em> <code>c</code> <a href="https://x.test">l</a></p></li></ul><pre><code>x</code></pre><blockquote><p>q</p></blockquote>');
    const evil = '<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">j</a><svg onload=alert(1)><use href="#x"/></svg><p style="color:red" onclick="x">s</p><iframe src="https://evil.test"></iframe><style>p{}</style>';
    for (const format of ['html', 'markdown'] as const) {
      const out = vendorTextToHtml(evil, format);
      expect(htmlProblems(out)).toEqual([]);
      expect(out).not.toMatch(/alert|style|onclick|iframe|svg/);
    }
    expect(vendorTextToHtml('# H\n\n- a\n- **b**\n\n```\ncode\n```', 'markdown')).toBe('<h1>H</h1>\n<ul>\n<li>a</li>\n<li><strong>b</strong></li>\n</ul>\n<pre><code>code\n</code></pre>');
  });
});
