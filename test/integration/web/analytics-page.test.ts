import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { seedCheckins } from '../../support/analytics-seed';
import { DB_KINDS } from '../../support/db-kinds';
import { newVendor, productWithReleases, type Vendor } from '../../support/fixtures';

/** The rows of the table with this id, as text cells (what a reader without JavaScript gets). */
function table(html: string, id: string): string[][] {
  const m = new RegExp(`<table[^>]*id="${id}"[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(html);
  if (!m) return [];
  return [...m[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()));
}
const unescape = (s: string) => s.replace(/&#34;/g, '"').replace(/&amp;/g, '&');

describe.each(DB_KINDS)('the analytics page (%s)', (db) => {
  let app: TestApp;
  let alice: Vendor;
  let productId: string;

  beforeAll(async () => {
    app = await startTestApp({ db });
    alice = await newVendor(app, 'alice');
    productId = (await productWithReleases(app, alice, { slug: 'charts', versions: ['1.0', '1.1'] })).id;
    await seedCheckins(app, productId, { sites: 70, days: 100 });
  }, 180_000);
  afterAll(() => app?.stop());

  test.each([7, 30, 90])('every table shows the numbers the API gives (days=%i), without JavaScript', async (days) => {
    const page = await alice.web.get(`/products/${productId}/analytics?days=${days}`);
    expect(page.status).toBe(200);
    const j = (await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=${days}`)).json;
    expect(page.text).toContain(`<dd id="active-7d">${j.active_installs['7d']}</dd>`);
    expect(page.text).toContain(`<dd id="active-30d">${j.active_installs['30d']}</dd>`);
    expect(table(page.text, 't-daily')).toEqual(j.daily.map((d: any) => [d.date, String(d.active_sites), String(d.checks)]));
    expect(table(page.text, 't-downloads')).toEqual(j.daily.map((d: any) => [d.date, String(d.downloads)]));
    const label = (v: string | null) => v ?? 'unknown';
    expect(table(page.text, 't-versions')).toEqual(j.versions.map((v: any) => [label(v.version), String(v.sites)]));
    expect(table(page.text, 't-wordpress')).toEqual(j.wordpress.map((v: any) => [label(v.version), String(v.sites)]));
    expect(table(page.text, 't-php')).toEqual(j.php.map((v: any) => [label(v.version), String(v.sites)]));
    expect(table(page.text, 't-locales')).toEqual(j.locales.map((v: any) => [label(v.locale), String(v.sites)]));
    const errors = Object.keys(j.licenses.errors).sort().map((k) => [k, String(j.licenses.errors[k])]);
    expect(table(page.text, 't-licenses')).toEqual([['valid code', String(j.licenses.valid)], ['no code', String(j.licenses.none)], ...errors]);
    // The sites table counts the same sites as the breakdowns.
    const total = j.versions.reduce((n: number, v: any) => n + v.sites, 0);
    expect(page.text).toMatch(new RegExp(`id="sites-total">${total} sites? seen in the last ${days} days`));
    // Charts are drawn by a fingerprinted Chart.js from this server, never a CDN.
    expect(page.text).toMatch(/<script src="\/assets\/chart\.umd\.min\.[0-9a-f]{12}\.js" defer>/);
    expect(page.text).not.toMatch(/<script src="https?:/);
  });

  test('the sites table searches, pages and exports CSV; a site can be erased from it (CSRF-protected)', async () => {
    const first = await alice.web.get(`/products/${productId}/analytics?days=90`);
    const rows = table(first.text, 't-sites');
    expect(rows).toHaveLength(50);
    expect(first.text).toContain('Page 1 of 2');
    const second = table((await alice.web.get(`/products/${productId}/analytics?days=90&page=2`)).text, 't-sites');
    expect(new Set([...rows, ...second].map((r) => r[0])).size).toBe(rows.length + second.length);

    const found = table((await alice.web.get(`/products/${productId}/analytics?days=90&search=SITE1${encodeURIComponent('2.')}`)).text, 't-sites');
    expect(found.map((r) => r[0])).toEqual(['site12.example.com']);

    const csv = await alice.web.get(`/products/${productId}/analytics/sites.csv?days=90`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('charts-sites-90d.csv');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('host,installed_version,wordpress,php,locale,license,last_seen');
    expect(lines).toHaveLength(1 + rows.length + second.length);
    const line = lines.find((l) => l.startsWith('"site12.example.com"'))!;
    const [host, version, wp, php, , lic] = unescape(line).split(',').map((c) => c.replace(/^"|"$/g, ''));
    expect([host, version || 'unknown', wp || 'unknown', php || 'unknown', lic]).toEqual(found[0]!.slice(0, 5));

    expect((await alice.web.post(`/products/${productId}/analytics/erase`, { host: 'site12.example.com' }, { csrf: false })).status).toBe(403);
    await alice.web.get(`/products/${productId}/analytics?days=90`);
    const erased = await alice.web.post(`/products/${productId}/analytics/erase`, { host: 'site12.example.com', days: '90' });
    expect(erased.status).toBe(303);
    const after = await alice.web.get(erased.location!);
    expect(after.text).toContain('Everything kept about site12.example.com was erased.');
    expect(table((await alice.web.get(`/products/${productId}/analytics?days=90&search=site12.`)).text, 't-sites')).toEqual([]);
  });

  test("another vendor gets a 404; a bad window a 422 page; an empty product explains what will appear", async () => {
    const bob = await newVendor(app, 'bob');
    expect((await bob.web.get(`/products/${productId}/analytics`)).status).toBe(404);
    expect((await bob.web.get(`/products/${productId}/analytics/sites.csv`)).status).toBe(404);
    await bob.web.get('/products');
    expect((await bob.web.post(`/products/${productId}/analytics/erase`, { host: 'site1.example.com' })).status).toBe(404);
    expect((await alice.web.get(`/products/${productId}/analytics?days=400`)).status).toBe(422);
    const own = (await productWithReleases(app, bob, { slug: 'quiet', versions: [] })).id;
    const empty = await bob.web.get(`/products/${own}/analytics`);
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('id="analytics-empty"');
    expect(empty.text).toContain('Sites appear here after their first update check.');
  });

  test('the products list shows active installs and downloads per product, with a sparkline', async () => {
    const list = await alice.web.get('/products');
    const j = (await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=30`)).json;
    expect(list.text).toContain(`data-active-installs="${j.active_installs['7d']}"`);
    expect(list.text).toContain('data-downloads="0"');
    const spark = /aria-label="Active sites per day, last 30 days: ([\d, ]+)"/.exec(list.text)![1]!.split(', ').map(Number);
    expect(spark).toEqual(j.daily.map((d: any) => d.active_sites));
  });
});
