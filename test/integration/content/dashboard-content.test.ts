import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { htmlProblems } from '../../support/html-safety';

jest.setTimeout(300_000);

/** The dashboard's section and changelog editing as a browser without JavaScript uses it: Markdown textareas. */
describe('sections and changelogs in the dashboard, without JavaScript', () => {
  let app: TestApp;
  let vendor: Vendor;
  let id: string;

  beforeAll(async () => {
    app = await startTestApp();
    vendor = await newVendor(app);
    ({ id } = await productWithReleases(app, vendor, { slug: 'dash-notes', versions: ['1.0', '1.1'], free: true, readme: true }));
  });
  afterAll(() => app.stop());

  const textarea = (page: string, name: string): string => {
    const m = new RegExp(`<textarea[^>]*name="${name}"[^>]*>([\\s\\S]*?)</textarea>`).exec(page);
    if (!m) throw new Error(`no textarea ${name}`);
    return m[1]!.replace(/&#34;|&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  };

  it('shows the readme sections as Markdown, stores only what was changed, and keeps formatting', async () => {
    const page = await vendor.web.get(`/products/${id}/content`);
    expect(page.status).toBe(200);
    expect(textarea(page.text, 'section_description')).toBe('The **best** plugin.');
    expect(textarea(page.text, 'section_installation')).toBe('1.  Upload it.');
    expect(page.text).toContain('data-rich data-html="&lt;p&gt;The &lt;strong&gt;best&lt;/strong&gt; plugin.&lt;/p&gt;"');

    const saved = await vendor.web.post(`/products/${id}/content`, {
      format: 'markdown',
      section_description: textarea(page.text, 'section_description'), // untouched: still follows the readme
      section_installation: '## Steps\n\n1. Upload\n2. Run `wp plugin activate`\n\n[Docs](https://acme.test/docs) <img src=x onerror=alert(1)>',
      section_faq: '',
      new_section_title: 'Other Notes',
      section_new: '> Quoted <svg onload=alert(1)></svg> [x](javascript:alert(1)) <a href="javascript:alert(2)">y</a> <p style="x">z</p>',
    });
    expect(saved.status).toBe(302);
    const j = (await updateCheck(app, id, {})).json;
    expect(j.sections.installation).toBe('<h2>Steps</h2>\n<ol>\n<li>Upload</li>\n<li>Run <code>wp plugin activate</code></li>\n</ol>\n<p><a href="https://acme.test/docs">Docs</a> </p>');
    expect(j.sections.other_notes).toContain('<blockquote>');
    for (const html of Object.values(j.sections as Record<string, string>)) expect(htmlProblems(html)).toEqual([]);
    const own = await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}`);
    expect(Object.keys(own.json.sections)).toEqual(['description', 'installation', 'other_notes']);

    // Edited sections are the vendor's own from now on; the form shows them back as Markdown.
    const again = await vendor.web.get(`/products/${id}/content`);
    expect(textarea(again.text, 'section_installation')).toContain('## Steps');
    expect(again.text).toContain('Other Notes</label>');
  });

  it('previews the sections as WordPress\'s modal shows them, with the unsaved text, sanitized', async () => {
    await vendor.web.get(`/products/${id}/content`);
    const preview = await vendor.web.post(`/products/${id}/preview`, { format: 'markdown', section_description: 'Preview **only** <script>alert(1)</script>' });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('<div id="plugin-information-tabs"');
    expect(preview.text).toMatch(/<a href="#section-description"[^>]*>Description<\/a><a href="#section-installation"[^>]*>Installation<\/a><a href="#section-changelog"[^>]*>Changelog<\/a>/);
    expect(preview.text).toContain('<p>Preview <strong>only</strong> </p>');
    expect(preview.text).not.toMatch(/<script>alert|onerror|onload|href="javascript/);
    // Nothing was saved.
    expect((await updateCheck(app, id, {})).json.sections.description).toBe('<p>The <strong>best</strong> plugin.</p>');
  });

  it('lists versions with changelog, full SHA-256 and a download link; edits a version\'s changelog', async () => {
    const show = await vendor.web.get(`/products/${id}`);
    expect(show.text).toMatch(/<code class="sha256" id="sha-[^"]+">[0-9a-f]{64}<\/code>/);
    expect(show.text).toContain('<li>Faster.</li>');
    expect(show.text).toContain('Upgrade for speed.');
    const versions = (await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/versions`)).json.versions as { id: string; version: string; sha256: string }[];
    const v10 = versions.find((v) => v.version === '1.0')!;

    const download = await vendor.web.get(`/products/${id}/versions/${v10.id}/download`);
    expect(download.status).toBe(302);
    const zip = Buffer.from(await (await fetch(download.location!)).arrayBuffer());
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(zip).digest('hex')).toBe(v10.sha256);

    const form = await vendor.web.get(`/products/${id}/versions/${v10.id}/notes`);
    expect(textarea(form.text, 'changelog')).toBe('-   First release.');
    const saved = await vendor.web.post(`/products/${id}/versions/${v10.id}/notes`, { format: 'markdown', changelog: '### Added\n\n- **Forms** <b onmouseover=alert(1)>x</b>', upgrade_notice: '' });
    expect(saved.status).toBe(302);
    const j = (await updateCheck(app, id, {})).json;
    expect(j.sections.changelog).toMatch(/<h4>1\.1<\/h4>[\s\S]*<h4>1\.0<\/h4>\n<h3>Added<\/h3>\n<ul>\n<li><strong>Forms<\/strong> x<\/li>\n<\/ul>/);
    expect(j.upgrade_notice).toBe('<p>Upgrade for speed.</p>');

    const other = await newVendor(app, 'other');
    expect((await other.web.get(`/products/${id}/versions/${v10.id}/notes`)).status).toBe(404);
    expect((await other.web.get(`/products/${id}/versions/${v10.id}/download`)).status).toBe(404);
    expect((await other.web.get(`/products/${id}/content`)).status).toBe(404);
  });

  it('refuses a bad section name with the form shown again', async () => {
    await vendor.web.get(`/products/${id}/content`);
    const res = await vendor.web.post(`/products/${id}/content`, { format: 'markdown', new_section_title: '!!!', section_new: 'text' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Name the new section.');
  });

  it('the form posts need the CSRF token', async () => {
    const res = await vendor.web.post(`/products/${id}/content`, { format: 'markdown', section_description: 'x' }, { csrf: false });
    expect(res.status).toBe(403);
  });
});
