import { eq } from 'drizzle-orm';
import { products } from '../../../src/db/schema';
import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { fetchJson, newVendor, updateCheck, type Vendor } from '../../support/fixtures';
import { htmlProblems } from '../../support/html-safety';
import { pathologicalTexts } from '../../support/pathological';
import { pluginZip, postToS3 } from '../../support/releases';
import { expectWithin } from '../../support/timing';

/**
 * What leaves Wharf for WordPress (the update JSON) and for browsers (the public details page) is safe whatever
 * a vendor or a zip puts in: http(s) URLs only, HTML sanitized to WordPress's plugin-section allowlist, and
 * rendering linear on hostile 100,000-character text.
 */

jest.setTimeout(900_000);

// A linear render of 100,000 characters takes under 0.6 s on a quiet machine, a quadratic one minutes: 5 s tells them apart on a busy one.
const BOUND_MS = 5000;

let app: TestApp;
let vendor: Vendor;
let counter = 0;

beforeAll(async () => {
  app = await startTestApp();
  vendor = await newVendor(app);
});
afterAll(() => app.stop());

/** A plugin product; its slug is the folder its zips must hold. */
async function createPlugin(fields: Record<string, unknown> = {}): Promise<{ id: string; slug: string }> {
  const slug = `content-${counter++}`;
  const res = await api(app.url, vendor.key, 'POST', '/api/v1/products', { type: 'plugin', slug, name: 'Content test', ...fields });
  if (res.status !== 201) throw new Error(`product: ${res.status} ${res.text}`);
  return { id: res.json.id, slug };
}

/** Upload and finalize one zip; the finalize request's own time is returned. */
async function release(productId: string, zip: Buffer): Promise<{ status: number; text: string; ms: number }> {
  const post = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/uploads`);
  const s3 = await postToS3(post.json, zip);
  if (s3.status !== 204) throw new Error(`s3: ${s3.status}`);
  const started = performance.now();
  const fin = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/versions`, { key: post.json.key });
  const ms = performance.now() - started;
  await app.runtime.services.releases.idle(); // offered once the verification pass (in this process) is done
  return { status: fin.status, text: fin.text, ms };
}

/** The HTML inside each `<div class="readme-body">` of a details page (sections never contain a closing div of their own but nested ones). */
function readmeBodies(page: string): string[] {
  return page.split('<div class="readme-body">').slice(1).map((rest) => rest.slice(0, rest.lastIndexOf('</div>', rest.indexOf('</section>'))));
}

async function expectSafeRenders(productId: string): Promise<void> {
  await expectWithin(BOUND_MS, async () => {
    const page = await fetch(`${app.url}/details/${productId}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    for (const body of readmeBodies(html)) expect(htmlProblems(body)).toEqual([]);
  });
  await expectWithin(BOUND_MS, async () => {
    const res = await updateCheck(app, productId);
    expect(res.status).toBe(200);
    for (const html of Object.values<string>(res.json.sections ?? {})) expect(htmlProblems(html)).toEqual([]);
  });
}

test('a zip whose headers carry javascript: URLs and whose readme carries scripts reaches WordPress and browsers harmless', async () => {
  const { id, slug } = await createPlugin();
  const readme = [
    '=== Hostile ===',
    'Requires at least: 5.8',
    '',
    'Short.',
    '',
    '== Description ==',
    'Hi <script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) ![i](javascript:alert(1))',
    '',
    '== Changelog ==',
    '= 1.0 <script>alert(1)</script> =',
    '* <a href="javascript:alert(1)">fixed</a>',
    '',
    '== Upgrade Notice ==',
    '= 1.0 =',
    '<script>alert(document.cookie)</script><b onmouseover="alert(1)">Back up</b> first.',
    '',
  ].join('\n');
  const zip = pluginZip(slug, '1.0', { readme, headers: { 'Author URI': 'javascript:alert(1)', 'Plugin URI': 'javascript:alert(2)', Author: '<img src=x onerror=alert(3)>Mallory' } });
  const fin = await release(id, zip);
  expect(fin.status).toBe(201);

  const res = await updateCheck(app, id);
  expect(res.status).toBe(200);
  const j = res.json;
  expect(j).not.toHaveProperty('author_homepage');
  expect(j.homepage).toBe(`${app.url}/details/${id}`);
  // Markdown, as wordpress.org renders upgrade notices; raw HTML stays visible text, never markup.
  expect(j.upgrade_notice).toBe('<p>&lt;script&gt;alert(document.cookie)&lt;/script&gt;&lt;b onmouseover="alert(1)"&gt;Back up&lt;/b&gt; first.</p>');
  expect(j.author).toBe('&lt;img src=x onerror=alert(3)&gt;Mallory');
  // The hostile text is still there, as text: escaped, and the Markdown link left unlinked.
  expect(res.text).not.toMatch(/<script|<img |<a [^>]*javascript/i);
  expect(j.sections.description).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt;');
  expect(j.sections.description).toContain('[click](javascript:alert(1))');
  expect(j.sections.changelog).toContain('<h4>1.0</h4>');
  for (const html of Object.values<string>(j.sections)) expect(htmlProblems(html)).toEqual([]);

  const page = await fetch(`${app.url}/details/${id}`);
  const html = await page.text();
  expect(page.status).toBe(200);
  expect(html).not.toMatch(/<script|<img |<a [^>]*javascript/i);
  expect(html).toContain('by &lt;img src=x onerror=alert(3)&gt;Mallory'); // the author as text, with no link
  expect(html).not.toContain('>Homepage<');
  for (const body of readmeBodies(html)) expect(htmlProblems(body)).toEqual([]);
  expect(readmeBodies(html).length).toBeGreaterThanOrEqual(2);
});

test('banner and icon URLs stored before validation existed are dropped, not sent', async () => {
  const { id, slug } = await createPlugin({ bannerHigh: 'https://cdn.example/banner.png' });
  expect((await release(id, pluginZip(slug, '1.0'))).status).toBe(201);
  await app.runtime.database.db.update(products).set({ bannerLow: 'javascript:alert(1)', icon1x: 'data:image/svg+xml,<svg onload=alert(1)>', homepage: 'javascript:alert(2)' }).where(eq(products.id, id));
  app.runtime.services.catalog.invalidateProduct(id);
  const j = (await updateCheck(app, id)).json;
  expect(j.banners).toEqual({ high: 'https://cdn.example/banner.png' });
  expect(j.icons).toEqual({});
  expect(j.homepage).toBe(`${app.url}/details/${id}`); // the zip has no Plugin URI, so the details page is next in line
  expect(j.author_homepage).toBe('https://acme.test'); // the zip's Author URI
});

describe('100,000-character pathological text', () => {
  const texts = pathologicalTexts();

  test.each(['description', 'installation', 'changelog'])('in %s via the vendor API: accepted, and the details page and update JSON each render within 5 s', async (field) => {
    const { id, slug } = await createPlugin();
    expect((await release(id, pluginZip(slug, '1.0'))).status).toBe(201);
    for (const text of Object.values(texts)) {
      const patched = await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${id}`, { [field]: text });
      expect(patched.status).toBe(200);
      await expectSafeRenders(id);
    }
  });

  test('in the short fields and URL fields via the vendor API: a clear 422 or accepted, never slow, never unsafe', async () => {
    const { id, slug } = await createPlugin();
    expect((await release(id, pluginZip(slug, '1.0'))).status).toBe(201);
    for (const text of Object.values(texts)) {
      for (const [field, value] of [
        ['name', text],
        ['name', text.slice(0, 200)],
        ['author', text.slice(0, 200)],
        ['homepage', text],
        ['authorHomepage', `https://a.example/${text.slice(0, 1900)}`],
        ['bannerLow', `https://a.example/${text.slice(0, 1900)}`],
        ['icon2x', text.slice(0, 1900)],
      ] as const) {
        let status = 0;
        await expectWithin(BOUND_MS, async () => {
          status = (await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${id}`, { [field]: value })).status;
        });
        expect({ field, status: [200, 422].includes(status) }).toEqual({ field, status: true });
      }
      await expectSafeRenders(id);
    }
  });

  test('in every field of the dashboard form: saved, and the pages render within 5 s', async () => {
    const { id, slug } = await createPlugin();
    expect((await release(id, pluginZip(slug, '1.0'))).status).toBe(201);
    const chosen = ['heading, spaces, letter (the reported case)', 'stars', 'open brackets', 'backticks', 'less-than signs', 'nested lists', 'nested blockquotes', 'setext headings', 'mixed delimiters', 'many sections'];
    for (const name of chosen) {
      const text = texts[name]!;
      for (const field of ['description', 'installation', 'changelog', 'author', 'homepage']) {
        await vendor.web.get(`/products/${id}/edit`);
        const value = field === 'author' ? text.slice(0, 200) : text;
        let res = { status: 0, text: '' };
        await expectWithin(BOUND_MS, async () => {
          res = await vendor.web.post(`/products/${id}/edit`, { name: 'Form product', [field]: value });
        });
        // Long URLs, and line breaks in a one-line field, get the form back with the message; everything else is saved.
        if (field === 'homepage') expect([res.status, res.text.includes('id="homepage-error"')]).toEqual([422, true]);
        else if (field === 'author' && /[\r\n]/.test(value)) expect([res.status, res.text.includes('id="author-error"')]).toEqual([422, true]);
        else expect({ name, field, status: res.status }).toEqual({ name, field, status: 302 });
        await expectSafeRenders(id);
      }
    }
  });

  test('in every readme.txt part: finalize parses it, and the pages render within 5 s', async () => {
    const chosen = ['heading, spaces, letter (the reported case)', 'section heading, spaces, letter', 'header, spaces, letter', 'equals', 'hashes', 'stars', 'open brackets', 'backticks', 'setext headings', 'many distinct sections', 'many entries', 'nested lists'];
    // Grouped so that each readme stays under the 512 KiB Wharf reads, and each release renders about one text.
    const readmes: ((t: string) => string)[] = [
      (t) => `=== ${t} ===\nTags: ${t}\nRequires at least: 5.8\n\n== ${t} ==\nx\n`,
      (t) => `=== X ===\nTags: a\n\n${t}\n\n== Upgrade Notice ==\n= 1.0.VERSION =\n${t}\n`,
      (t) => `=== X ===\n\n== Changelog ==\n= ${t} =\n* x\n\n= 1.0 =\n${t}\n`,
    ];
    for (const name of chosen) {
      const { id, slug } = await createPlugin();
      let patch = 0;
      for (const readme of readmes) {
        let best = Infinity;
        for (let attempt = 0; attempt < 3 && best > BOUND_MS; attempt++) {
          const version = `1.0.${++patch}`;
          const fin = await release(id, pluginZip(slug, version, { readme: readme(texts[name]!).replace('1.0.VERSION', version) }));
          expect({ name, status: fin.status, text: fin.status === 201 ? '' : fin.text }).toEqual({ name, status: 201, text: '' });
          best = Math.min(best, fin.ms);
        }
        expect({ name, best: best < BOUND_MS }).toEqual({ name, best: true });
        await expectSafeRenders(id);
      }
    }
  });

  test('in every update-check field (query string, POST body) and the User-Agent: answered within 5 s', async () => {
    const { id, slug } = await createPlugin();
    expect((await release(id, pluginZip(slug, '1.0'))).status).toBe(201);
    const fields = ['installed_version', 'license', 'php', 'locale', 'domain', 'checking_for_updates'];
    // As long as each transport carries: a 16 KB request line and headers, a 16 KB update-check body.
    const inQuery = pathologicalTexts(3_000);
    const inBody = pathologicalTexts(7_000);
    for (const name of Object.keys(inQuery)) {
      for (const field of fields) {
        await expectWithin(BOUND_MS, async () => {
          expect((await updateCheck(app, id, { [field]: inQuery[name]! })).status).toBe(200);
          const post = await fetchJson(`${app.url}/api/v1/updates/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [field]: inBody[name] }) });
          expect({ name, field, status: post.status }).toEqual({ name, field, status: 200 });
        });
      }
      await expectWithin(BOUND_MS, async () => {
        expect((await updateCheck(app, id, {}, { 'user-agent': `WordPress/6.4; ${inBody[name]!.replace(/[^\x20-\x7e]/g, ' ')}` })).status).toBe(200);
      });
    }
  });
});
