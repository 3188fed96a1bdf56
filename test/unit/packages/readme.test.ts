import { parseReadme, sectionKey } from '../../../src/services/packages/readme';
import { readmeToHtml } from '../../../src/services/packages/readme-html';

const README = `\uFEFF=== Acme Forms ===\r
Contributors: alice, bob ,\r
Donate link: https://example.com/donate\r
tags: forms, contact\r
REQUIRES AT LEAST: 5.8\r
Tested up to: 6.5\r
Requires PHP: 7.4\r
Stable tag: 2.1.0\r
License: GPLv2 or later\r
License URI: https://www.gnu.org/licenses/gpl-2.0.html\r
\r
Build forms that send email.\r
\r
== Description ==\r
\r
Acme Forms makes **forms**.\r
\r
== Frequently Asked Questions ==\r
\r
= Does it work? =\r
Yes.\r
\r
== Change Log ==\r
\r
= 2.1.0 - 2024-05-01 =\r
* Added file uploads.\r
* Fixed a bug.\r
\r
= v2.0 =\r
* Rewrite.\r
\r
== Upgrade Notice ==\r
\r
= 2.1.0 =\r
Adds uploads; back up first.\r
\r
= 2.0 =\r
Major rewrite.\r
\r
== Custom Stuff! ==\r
Extra.\r
`;

describe('parseReadme', () => {
  const readme = parseReadme(README);

  it('reads the name and the headers case-insensitively', () => {
    expect(readme).toMatchObject({
      name: 'Acme Forms',
      contributors: ['alice', 'bob'],
      donateLink: 'https://example.com/donate',
      tags: ['forms', 'contact'],
      requires: '5.8',
      tested: '6.5',
      requiresPhp: '7.4',
      stableTag: '2.1.0',
      license: 'GPLv2 or later',
      licenseUri: 'https://www.gnu.org/licenses/gpl-2.0.html',
      shortDescription: 'Build forms that send email.',
    });
  });

  it('splits sections with lowercase snake keys and aliases', () => {
    expect(Object.keys(readme.sections)).toEqual(['description', 'faq', 'changelog', 'upgrade_notice', 'custom_stuff']);
    expect(readme.sections.description).toBe('Acme Forms makes **forms**.');
    expect(readme.sections.faq).toBe('= Does it work? =\nYes.');
    expect(sectionKey('Frequently Asked Questions')).toBe('faq');
    expect(sectionKey('Change_Log')).toBe('changelog');
  });

  it('parses changelog entries newest first', () => {
    expect(readme.changelog).toEqual([
      { version: '2.1.0', body: '* Added file uploads.\n* Fixed a bug.' },
      { version: '2.0', body: '* Rewrite.' },
    ]);
  });

  it('parses upgrade notices by version', () => {
    expect(readme.upgradeNotice).toEqual({ '2.1.0': 'Adds uploads; back up first.', '2.0': 'Major rewrite.' });
  });

  it('copes with missing parts and markdown-style headings', () => {
    expect(parseReadme('')).toMatchObject({ name: null, tags: [], requires: null, shortDescription: null, sections: {}, changelog: [] });
    const md = parseReadme('# My Plugin #\n\nShort.\n\n## Changelog ##\n\n### 1.0 ###\n* First.\n');
    expect(md).toMatchObject({ name: 'My Plugin', shortDescription: 'Short.', changelog: [{ version: '1.0', body: '* First.' }] });
  });

  it('keeps section names that look like object internals as plain data', () => {
    const r = parseReadme('=== X ===\n\n== __proto__ ==\nA\n\n== Upgrade Notice ==\n= __proto__ =\nB\n');
    expect(r.sections.proto).toBe('A');
    expect(Object.getPrototypeOf(r.upgradeNotice)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(r.upgradeNotice, '__proto__')).toBe(true);
  });
});

describe('readmeToHtml', () => {
  it('converts headings, lists, paragraphs and inline markup', () => {
    const html = readmeToHtml('= 1.2 =\n* **Bold** fix\n- `code` item\n\n1. one\n2. two\n\n## Notes\nA *quiet* [link](https://example.com/?a=1&b=2).\nSecond line.');
    expect(html).toBe(
      [
        '<h4>1.2</h4>',
        '<ul><li><strong>Bold</strong> fix</li><li><code>code</code> item</li></ul>',
        '<ol><li>one</li><li>two</li></ol>',
        '<h4>Notes</h4>',
        '<p>A <em>quiet</em> <a href="https://example.com/?a=1&amp;b=2" rel="nofollow noopener">link</a>.\nSecond line.</p>',
      ].join('\n'),
    );
  });

  it('escapes HTML everywhere, including scripts and attributes', () => {
    const html = readmeToHtml('<script>alert(1)</script>\n* <img src=x onerror=alert(1)>\n= <b>h</b> =\n`<i>`');
    expect(html).not.toMatch(/<script|<img|<b>|<i>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<code>&lt;i&gt;</code>');
  });

  it('links only http and https URLs', () => {
    expect(readmeToHtml('[x](javascript:alert(1))')).not.toContain('<a');
    expect(readmeToHtml('[x](JavaScript:alert(1))')).not.toContain('href');
    expect(readmeToHtml('[x](data:text/html,hi)')).not.toContain('<a');
    expect(readmeToHtml('[x](http://a.example/"onmouseover="alert(1))')).not.toMatch(/href="[^"]*"onmouseover/);
    expect(readmeToHtml('[**x**](http://a.example/*y*)')).toBe('<p><a href="http://a.example/*y*" rel="nofollow noopener"><strong>x</strong></a></p>');
  });

  it('keeps fenced code verbatim (escaped)', () => {
    expect(readmeToHtml('```\n* not a list\n<b>\n```')).toBe('<pre><code>* not a list\n&lt;b&gt;</code></pre>');
  });
});
