import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, setReleasedAt, updateCheck, type Vendor } from '../../support/fixtures';
import { htmlProblems } from '../../support/html-safety';
import { pluginZip, postToS3, themeZip } from '../../support/releases';
import { buildZip, cssWithHeaders } from '../../support/zip-builder';

jest.setTimeout(300_000);

const readme = (version: string, entries: string) => `=== Notes ===
Stable tag: ${version}

Short.

== Description ==
Does **things**.

== Frequently Asked Questions ==
= Why? =
Because.

== Changelog ==
${entries}

== Upgrade Notice ==
= ${version} =
Back up *first* for ${version}.
`;

describe.each(DB_KINDS)('per-version changelogs and sections (%s)', (kind) => {
  let app: TestApp;
  let vendor: Vendor;
  let n = 0;

  beforeAll(async () => {
    app = await startTestApp({ db: kind });
    vendor = await newVendor(app);
  });
  afterAll(() => app.stop());

  const call = (method: string, path: string, body?: unknown) => api(app.url, vendor.key, method, path, body);

  async function product(type: 'plugin' | 'theme' = 'plugin', extra: Record<string, unknown> = {}): Promise<{ id: string; slug: string }> {
    const slug = `notes-${n++}`;
    const res = await call('POST', '/api/v1/products', { type, slug, name: 'Notes', ...extra });
    expect(res.status).toBe(201);
    return { id: res.json.id, slug };
  }

  async function release(id: string, zip: Buffer): Promise<void> {
    const post = await call('POST', `/api/v1/products/${id}/uploads`);
    expect((await postToS3(post.json, zip)).status).toBe(204);
    const fin = await call('POST', `/api/v1/products/${id}/versions`, { key: post.json.key });
    expect(fin.status).toBe(201);
    await app.runtime.services.releases.idle();
  }

  it('fills each version from its readme at upload and assembles the changelog newest first, with the notice of the version offered', async () => {
    const p = await product('plugin', { free: true });
    await release(p.id, pluginZip(p.slug, '1.0', { readme: readme('1.0', '= 1.0 =\n* First.') }));
    await release(p.id, pluginZip(p.slug, '1.2', { readme: readme('1.2', '= 1.2 =\n* Second, with `code`.\n\n= 1.0 =\n* First (rewritten later).') }));
    await release(p.id, pluginZip(p.slug, '1.10', { readme: readme('1.10', '= 1.10 - 2026-01-01 =\n* Third.\n\n= 1.2 =\n* Second.') }));

    const v12 = await call('GET', `/api/v1/products/${p.id}/versions/1.2`);
    expect(v12.json.changelog).toBe('<ul>\n<li>Second, with <code>code</code>.</li>\n</ul>');
    expect(v12.json.upgrade_notice).toBe('<p>Back up <em>first</em> for 1.2.</p>');

    const j = (await updateCheck(app, p.id, { installed_version: '1.0' })).json;
    expect(j.version).toBe('1.10');
    const log: string = j.sections.changelog;
    // Newest first by version order (1.10 after 1.2 as text, before it as a version); each version's own text, once.
    expect(log.indexOf('<h4>1.10</h4>')).toBeLessThan(log.indexOf('<h4>1.2</h4>'));
    expect(log.indexOf('<h4>1.2</h4>')).toBeLessThan(log.indexOf('<h4>1.0</h4>'));
    expect(log).toContain('<li>First.</li>');
    expect(log).not.toContain('rewritten');
    expect(j.upgrade_notice).toBe('<p>Back up <em>first</em> for 1.10.</p>');
    expect(Object.keys(j.sections)).toEqual(['description', 'installation', 'changelog', 'faq']);
    expect(j.sections.description).toBe('<p>Does <strong>things</strong>.</p>');
    expect(j.sections.faq).toContain('<h4>Why?</h4>');
  });

  it('offers an expired code the older version with that version\'s notice and no newer changelog entries', async () => {
    const p = await product();
    await release(p.id, pluginZip(p.slug, '2.0', { readme: readme('2.0', '= 2.0 =\n* Old.') }));
    const [code] = await createCodes(app, vendor, p.id, { expiresAt: '2030-01-01' });
    // The code expired two days ago, 2.0 came out before that, 2.1 comes out now.
    await app.runtime.database.db.execute(`update purchase_codes set expires_on = current_date - 2 where product_id = '${p.id}'`);
    await setReleasedAt(app, p.id, '2.0', new Date(Date.now() - 5 * 86_400_000));
    await release(p.id, pluginZip(p.slug, '2.1', { readme: readme('2.1', '= 2.1 =\n* New.') }));
    const j = (await updateCheck(app, p.id, { installed_version: '1.0', license: code! })).json;
    expect(j.version).toBe('2.0');
    expect(j.upgrade_notice).toBe('<p>Back up <em>first</em> for 2.0.</p>');
    expect(j.sections.changelog).toContain('<h4>2.0</h4>');
    expect(j.sections.changelog).not.toContain('2.1');
  });

  it('reads CHANGELOG.md when the zip has no readme changelog, for plugins and themes', async () => {
    const md = '# Changelog\n\n## [3.1.0] - 2026-02-01\n### Added\n- Dark **mode**\n\n## [3.0.0] - 2026-01-01\n- Start\n';
    const p = await product('plugin', { free: true });
    await release(p.id, pluginZip(p.slug, '3.1.0', { extra: [{ name: `${p.slug}/CHANGELOG.md`, data: md }] }));
    const j = (await updateCheck(app, p.id, {})).json;
    expect(j.sections.changelog).toBe('<h4>3.1.0</h4>\n<h3>Added</h3>\n<ul>\n<li>Dark <strong>mode</strong></li>\n</ul>');

    const t = await product('theme', { free: true });
    await release(t.id, buildZip([
      { name: `${t.slug}/` },
      { name: `${t.slug}/style.css`, data: cssWithHeaders({ 'Theme Name': 'T', Version: '1.1', Author: 'Acme' }) },
      { name: `${t.slug}/index.php`, data: '<?php' },
      { name: `${t.slug}/changelog.txt`, data: '= 1.1 =\n* Theme tweak.\n\n= 1.0 =\n* Theme start.\n' },
    ]));
    const page = await (await fetch(`${app.url}/details/${t.id}`)).text();
    expect(page).toContain('<h4>1.1</h4>');
    expect(page).toContain('<li>Theme tweak.</li>');
    const v = await call('GET', `/api/v1/products/${t.id}/versions/1.1`);
    expect(v.json.changelog).toBe('<ul>\n<li>Theme tweak.</li>\n</ul>');
  });

  it('edits a version\'s changelog and notice by API (HTML or Markdown), sanitized, seen by the next update check', async () => {
    const p = await product('plugin', { free: true });
    await release(p.id, pluginZip(p.slug, '1.0'));
    expect((await updateCheck(app, p.id, {})).json).not.toHaveProperty('upgrade_notice');

    const html = await call('PATCH', `/api/v1/products/${p.id}/versions/1.0`, {
      changelog: '<h3>New</h3><ul><li><strong>Bold</strong> <a href="https://acme.test/x">link</a></li></ul><pre><code>x = 1</code></pre><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">bad</a><svg onload=alert(1)><circle/></svg><p style="color:red">styled</p>',
    });
    expect(html.status).toBe(200);
    expect(html.json.changelog).toBe('<h3>New</h3><ul><li><strong>Bold</strong> <a href="https://acme.test/x">link</a></li></ul><pre><code>x = 1</code></pre><a>bad</a><p>styled</p>');
    const md = await call('PATCH', `/api/v1/products/${p.id}/versions/1.0`, { upgrade_notice: 'Read [this](https://acme.test/n) <b onclick=x>now</b>', format: 'markdown' });
    expect(md.json.upgrade_notice).toBe('<p>Read <a href="https://acme.test/n">this</a> now</p>');
    expect(md.json.changelog).toContain('<h3>New</h3>'); // untouched

    const j = (await updateCheck(app, p.id, {})).json;
    expect(j.upgrade_notice).toBe('<p>Read <a href="https://acme.test/n">this</a> now</p>');
    expect(j.sections.changelog).toContain('<strong>Bold</strong>');
    for (const h of [j.upgrade_notice, ...Object.values(j.sections as Record<string, string>)]) expect(htmlProblems(h)).toEqual([]);

    expect((await call('PATCH', `/api/v1/products/${p.id}/versions/9.9`, { changelog: 'x' })).status).toBe(404);
    expect((await call('PATCH', `/api/v1/products/${p.id}/versions/1.0`, {})).status).toBe(422);
    expect((await call('PATCH', `/api/v1/products/${p.id}/versions/1.0`, { changelog: 5 })).status).toBe(422);
    expect((await call('PATCH', `/api/v1/products/${p.id}/versions/1.0`, { changelog: 'x', format: 'rtf' })).status).toBe(422);
    const other = await newVendor(app, 'other');
    expect((await api(app.url, other.key, 'PATCH', `/api/v1/products/${p.id}/versions/1.0`, { changelog: 'mine' })).status).toBe(404);
  });

  it('sets sections by API: sanitized HTML or Markdown, vendor text over the readme, null gives the readme back', async () => {
    const p = await product('plugin', { free: true });
    await release(p.id, pluginZip(p.slug, '1.0', { readme: readme('1.0', '= 1.0 =\n* One.') }));
    const res = await call('PATCH', `/api/v1/products/${p.id}`, {
      name: 'Renamed',
      sections: { installation: '## Steps\n\n1. Upload\n2. `Activate`\n\n<script>alert(1)</script>', other_notes: 'See [docs](javascript:alert(1)).' },
      format: 'markdown',
    });
    expect(res.status).toBe(200);
    expect(res.json.name).toBe('Renamed');
    expect(res.json.sections.installation).toBe('<h2>Steps</h2>\n<ol>\n<li>Upload</li>\n<li><code>Activate</code></li>\n</ol>');
    expect(res.json.sections.other_notes).toBe('<p>See [docs](javascript:alert(1)).</p>');

    let j = (await updateCheck(app, p.id, {})).json;
    expect(Object.keys(j.sections)).toEqual(['description', 'installation', 'changelog', 'other_notes', 'faq']);
    expect(j.sections.installation).toContain('<h2>Steps</h2>');
    expect(j.sections.description).toBe('<p>Does <strong>things</strong>.</p>');

    await call('PATCH', `/api/v1/products/${p.id}`, { sections: { description: '<p onmouseover="x()">Own <em>text</em></p>', other_notes: null } });
    j = (await updateCheck(app, p.id, {})).json;
    expect(j.sections.description).toBe('<p>Own <em>text</em></p>');
    expect(j.sections).not.toHaveProperty('other_notes');

    const bad = await call('PATCH', `/api/v1/products/${p.id}`, { name: 'Not saved', sections: { changelog: 'x', 'Bad Key': 'y' } });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.error.fields)).toEqual(expect.arrayContaining(['sections.changelog', 'sections.Bad Key']));
    expect((await call('GET', `/api/v1/products/${p.id}`)).json.name).toBe('Renamed');
    expect((await call('PATCH', `/api/v1/products/${p.id}`, { sections: 'text' })).status).toBe(422);
  });
});
