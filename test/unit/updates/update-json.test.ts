import { randomUUID } from 'node:crypto';
import type { ProductSnapshot, VersionMeta } from '../../../src/services/updates/catalog.service';
import { finish, productSections, renderBase } from '../../../src/services/updates/update-json';
import { htmlProblems } from '../../support/html-safety';

function version(over: Partial<VersionMeta> = {}): VersionMeta {
  return { id: randomUUID(), version: '1.0', releasedAt: Date.UTC(2026, 0, 2), name: 'X', requires: '5.8', tested: '6.4', requiresPhp: '7.4', author: 'Zip Author', authorUri: 'https://zip.example', uri: 'https://zip.example/plugin', readme: null, upgradeNotice: null, ...over };
}

function product(over: Partial<ProductSnapshot> = {}): ProductSnapshot {
  const live = over.live === undefined ? version() : over.live;
  return { id: randomUUID(), type: 'plugin', slug: 'x', name: 'X', free: false, revision: 1, homepage: null, author: null, authorHomepage: null, description: '', installation: '', changelog: '', banners: { low: null, high: null }, icons: { '1x': null, '2x': null }, live, versions: live ? [live] : [], ...over };
}

const DETAILS = 'https://wharf.example/details/p';
const render = (p: ProductSnapshot) => JSON.parse(finish(renderBase(p, p.live!, DETAILS), null, null));

describe('update JSON', () => {
  it('drops every URL that is not http(s), falling back to the next source or leaving the field out', () => {
    const bad = 'javascript:alert(1)';
    const p = product({
      homepage: bad,
      authorHomepage: 'data:text/html,x',
      banners: { low: bad, high: 'https://cdn.example/b.png' },
      icons: { '1x': 'vbscript:x', '2x': ' https://cdn.example/i.png' },
      live: version({ uri: 'javascript:alert(2)', authorUri: 'JAVASCRIPT:alert(3)' }),
    });
    const j = render(p);
    expect(j.homepage).toBe(DETAILS);
    expect(j).not.toHaveProperty('author_homepage');
    expect(j.banners).toEqual({ high: 'https://cdn.example/b.png' });
    expect(j.icons).toEqual({});
    expect(JSON.stringify(j)).not.toMatch(/javascript|vbscript|data:/i);

    const good = render(product({ live: version({ uri: 'https://zip.example/plugin', authorUri: 'https://zip.example' }) }));
    expect(good).toMatchObject({ homepage: 'https://zip.example/plugin', author_homepage: 'https://zip.example' });
  });

  it('sanitizes the upgrade notice and every section, and escapes the name and author WordPress prints as HTML', () => {
    const p = product({
      name: 'Forms <img src=x onerror=alert(1)> & more',
      author: '<script>alert(1)</script>Acme',
      description: 'Hi <script>alert(1)</script> [x](javascript:alert(1))',
      live: version({
        upgradeNotice: '<script>alert(1)</script><strong onclick="x">Back up</strong> first.',
        readme: {
          sections: { faq: '<iframe src="https://evil.example"></iframe>\n= Q =\nA', screenshots: '1. <img src=x onerror=alert(1)>' },
          changelog: [{ version: '1.0 <script>alert(1)</script>', body: '* <b onclick=x>fixed</b>' }],
          upgradeNotice: {},
          shortDescription: null,
        },
      }),
    });
    const j = render(p);
    expect(j.name).toBe('Forms &lt;img src=x onerror=alert(1)&gt; &amp; more');
    expect(j.author).toBe('&lt;script&gt;alert(1)&lt;/script&gt;Acme');
    expect(j.upgrade_notice).toBe('<strong>Back up</strong> first.');
    expect(Object.keys(j.sections)).toEqual(['description', 'installation', 'changelog', 'faq', 'screenshots']);
    for (const [key, html] of Object.entries(j.sections as Record<string, string>)) expect({ key, problems: htmlProblems(html) }).toEqual({ key, problems: [] });
    expect(j.sections.changelog).toContain('<h4>1.0 &lt;script&gt;alert(1)&lt;/script&gt;</h4>');
    expect(j.sections.faq).toContain('<h4>Q</h4>');
  });

  it('leaves out an upgrade notice that sanitizes to nothing', () => {
    expect(render(product({ live: version({ upgradeNotice: '<script>alert(1)</script>' }) }))).not.toHaveProperty('upgrade_notice');
  });

  it('renders the sections of one product revision once, for the update answer and the details page alike', () => {
    const p = product({ description: 'First' });
    const first = productSections(p, p.live);
    expect(productSections(p, p.live)).toBe(first);
    const edited = { ...p, revision: 2, description: 'Second' };
    expect(productSections(edited, edited.live).description).toContain('Second');
  });
});
