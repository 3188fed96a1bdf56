import net from 'node:net';
import { eq } from 'drizzle-orm';
import { checkins } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { createCodes, fetchJson, newVendor, productWithReleases, setReleasedAt, updateCheck, type Vendor } from '../../support/fixtures';

let app: TestApp;
let vendor: Vendor;
let plugin: { id: string };
let theme: { id: string };

beforeAll(async () => {
  app = await startTestApp();
  vendor = await newVendor(app);
  plugin = await productWithReleases(app, vendor, { slug: 'acme-seo', versions: ['1.0', '1.1'], readme: true });
  theme = await productWithReleases(app, vendor, { type: 'theme', slug: 'harbor', versions: ['2.0'] });
});
afterAll(() => app.stop());

const UA = { 'user-agent': 'WordPress/6.4.2; https://shop.example.com' };

test('plugin JSON carries every field plugin-update-checker v5 reads, with the right types', async () => {
  const [code] = await createCodes(app, vendor, plugin.id);
  const res = await updateCheck(app, plugin.id, { installed_version: '1.0', php: '8.2.1', locale: 'de_DE', checking_for_updates: '1', license: code! }, UA);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const j = res.json;
  expect(j).toMatchObject({ name: 'Product acme-seo', slug: 'acme-seo', version: '1.1', homepage: 'https://acme.test/p', requires: '5.8', tested: '6.4', requires_php: '7.4', author: 'Acme', upgrade_notice: '<p>Upgrade for speed.</p>' });
  for (const k of ['name', 'slug', 'version', 'download_url', 'homepage', 'requires', 'tested', 'requires_php', 'last_updated', 'upgrade_notice', 'author']) expect(typeof j[k]).toBe('string');
  expect(Object.keys(j.sections).slice(0, 3)).toEqual(['description', 'installation', 'changelog']);
  expect(j.sections.description).toContain('<strong>best</strong>');
  expect(j.sections.changelog).toMatch(/<h4>1\.1<\/h4>[\s\S]*Faster/);
  expect(typeof j.banners).toBe('object');
  expect(typeof j.icons).toBe('object');
  expect(j.last_updated).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  expect(j.download_url).toMatch(new RegExp(`^${app.url}/api/v1/download/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{32}/acme-seo\\.zip$`));
  expect(j.download_url).not.toContain(code!.replace(/-/g, ''));
  expect(j.license_error).toBeUndefined();
});

test('theme JSON carries version, details_url and download_url', async () => {
  const [code] = await createCodes(app, vendor, theme.id);
  const res = await updateCheck(app, theme.id, { installed_version: '1.0', license: code! }, UA);
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ version: '2.0', details_url: `${app.url}/details/${theme.id}` });
  expect(res.json.download_url).toMatch(/\/harbor\.zip$/);
  expect(res.json.sections).toBeUndefined();
});

test('every license_error case answers 200 with the reason and no download_url', async () => {
  const p = await productWithReleases(app, vendor, { slug: 'acme-errors', versions: ['1.0'] });
  const [revoked] = await createCodes(app, vendor, p.id);
  await fetchJson(`${app.url}/api/v1/purchase-codes/${revoked}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ revoked: true }) });
  const [noDownloads] = await createCodes(app, vendor, p.id, { maxDownloads: 1 });
  await fetchJson((await updateCheck(app, p.id, { license: noDownloads! }, UA)).json.download_url);
  const [oneSite] = await createCodes(app, vendor, p.id, { maxSites: 1 });
  await fetchJson(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: p.id, license: oneSite, domain: 'https://first.example.com' }) });
  const [expired] = await createCodes(app, vendor, p.id, { expiresAt: '2020-01-31' });
  const [otherProduct] = await createCodes(app, vendor, plugin.id);

  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['missing', {}, 'missing', /Enter your purchase code/],
    ['unknown', { license: 'ABCD-EFGH-0000-1111-2222-3333-4444-5555' }, 'unknown', /not valid for this product/],
    ['garbage', { license: '<script>' }, 'unknown', /not valid/],
    ['other product', { license: otherProduct! }, 'unknown', /not valid/],
    ['revoked', { license: revoked! }, 'revoked', /revoked/],
    ['download limit', { license: noDownloads! }, 'download_limit', /all 1 of its downloads/],
    ['site limit', { license: oneSite! }, 'site_limit', /1 of 1 allowed site.*shop\.example\.com/],
    ['expired', { license: expired!, installed_version: '1.0' }, 'expired', /expired on 31 January 2020; renew it to get version 1\.0/],
  ];
  for (const [name, params, code, message] of cases) {
    const res = await updateCheck(app, p.id, params, UA);
    expect({ name, status: res.status, code: res.json?.license_error?.code, download: res.json?.download_url }).toEqual({ name, status: 200, code, download: undefined });
    expect(res.json.license_error.message).toMatch(message);
    expect(res.json.version).toBe('1.0');
  }
});

test('expiry: a code stays entitled to versions released up to the end of its expiry day (UTC)', async () => {
  const p = await productWithReleases(app, vendor, { slug: 'acme-expiry', versions: ['1.0', '2.0', '2.1'] });
  await setReleasedAt(app, p.id, '1.0', new Date('2026-01-10T12:00:00Z'));
  await setReleasedAt(app, p.id, '2.0', new Date('2026-03-03T23:59:59Z')); // last second of the expiry day
  await setReleasedAt(app, p.id, '2.1', new Date('2026-03-04T00:00:00Z')); // first second after
  const [code] = await createCodes(app, vendor, p.id, { expiresAt: '2026-03-03' });

  const from1 = await updateCheck(app, p.id, { license: code!, installed_version: '1.0' }, UA);
  expect(from1.json.version).toBe('2.0');
  expect(from1.json.download_url).toBeDefined();
  expect(from1.json.license_error).toEqual({ code: 'expired', message: 'Your purchase code expired on 3 March 2026; renew it to get version 2.1.' });

  const from2 = await updateCheck(app, p.id, { license: code!, installed_version: '2.0' }, UA);
  expect(from2.json.version).toBe('2.1');
  expect(from2.json.download_url).toBeUndefined();
  expect(from2.json.license_error.code).toBe('expired');

  // A code expiring the day 2.1 came out is entitled to it.
  const [later] = await createCodes(app, vendor, p.id, { expiresAt: '2026-03-04' });
  const ok = await updateCheck(app, p.id, { license: later!, installed_version: '2.0' }, UA);
  expect(ok.json).toMatchObject({ version: '2.1' });
  expect(ok.json.download_url).toBeDefined();
  expect(ok.json.license_error).toBeUndefined();
});

test('free products need no code, but the download URL is still signed and short-lived', async () => {
  const p = await productWithReleases(app, vendor, { slug: 'acme-free', versions: ['0.5'], free: true });
  const res = await updateCheck(app, p.id, {}, UA);
  expect(res.json.license_error).toBeUndefined();
  const token = /\/download\/([^/]+)\//.exec(res.json.download_url)![1]!;
  const claims = Buffer.from(token.split('.')[0]!, 'base64url').toString().split('|');
  const exp = Number(claims[4]) * 1000;
  expect(exp - Date.now()).toBeGreaterThan(29 * 60_000);
  expect(exp - Date.now()).toBeLessThanOrEqual(60 * 60_000);
  const dl = await fetch(res.json.download_url, { redirect: 'manual' });
  expect(dl.status).toBe(302);
});

test('POST with a form or JSON body is the same check; the site comes from domain or the User-Agent', async () => {
  const [code] = await createCodes(app, vendor, plugin.id, { maxSites: 1 });
  const form = await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'POST', headers: { ...UA, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ installed_version: '1.0', license: code!, unknown_field: 'x' }) });
  const json = await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ installed_version: '1.0', license: code, domain: 'https://shop.example.com/' }) });
  expect(form.json.version).toBe('1.1');
  expect(form.json.download_url).toBeDefined();
  expect({ ...json.json, download_url: 'x' }).toEqual({ ...form.json, download_url: 'x' });
  // Same code, same site → same token within the half-hour bucket: cacheable, deterministic.
  expect(json.json.download_url).toBe(form.json.download_url);
});

test('a form body that arrives after the headers (a slow client) is read the same as one sent with them', async () => {
  const [code] = await createCodes(app, vendor, plugin.id);
  const body = new URLSearchParams({ installed_version: '1.0', license: code!, domain: 'slow.example.org' }).toString();
  const { port } = new URL(app.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST /api/v1/updates/${plugin.id} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      setTimeout(() => socket.write(body.slice(0, 10)), 100);
      setTimeout(() => socket.end(body.slice(10)), 200);
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  const answer = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  const fast = await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
  expect(answer).toEqual(fast.json);
  expect(answer.download_url).toBeDefined();
});

test('unknown products and bad input get a clear 4xx JSON; unknown query fields are ignored', async () => {
  const missing = await updateCheck(app, '00000000-0000-4000-8000-000000000000');
  expect(missing.status).toBe(404);
  expect(missing.json.error.code).toBe('unknown_product');
  expect((await updateCheck(app, 'not-a-uuid')).status).toBe(404);
  const broken = await fetchJson(`${app.url}/api/v1/updates/%E0%A4%A`);
  expect([broken.status, broken.json.error.code]).toEqual([404, 'unknown_product']);
  const brokenToken = await fetchJson(`${app.url}/api/v1/download/%E0%A4%A/x.zip`);
  expect([brokenToken.status, brokenToken.json.error.code]).toEqual([403, 'invalid_token']);
  const nothing = await productWithReleases(app, vendor, { slug: 'no-release', versions: [] });
  expect((await updateCheck(app, nothing.id)).json.error.code).toBe('no_release');
  const bad = await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
  expect(bad.status).toBe(400);
  const huge = await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ license: 'x'.repeat(50_000) }) });
  expect(huge.status).toBe(413);
  expect((await fetchJson(`${app.url}/api/v1/updates/${plugin.id}`, { method: 'DELETE' })).status).toBe(405);
  const weird = await updateCheck(app, plugin.id, { installed_version: 'x'.repeat(5000), php: '\u0000', foo: 'bar' });
  expect(weird.status).toBe(200);
});

test('check-ins are recorded in batches, without IP addresses', async () => {
  const p = await productWithReleases(app, vendor, { slug: 'acme-checkins', versions: ['1.0'] });
  const [code] = await createCodes(app, vendor, p.id);
  for (let i = 0; i < 5; i++) await updateCheck(app, p.id, { installed_version: '0.9', php: '8.1.2', locale: 'fr_FR', license: code! }, { 'user-agent': `WordPress/6.3; https://site${i}.example.org` });
  const db = app.runtime.database.db;
  expect(await db.select().from(checkins).where(eq(checkins.productId, p.id))).toHaveLength(0); // buffered, not written on the request path
  await app.runtime.services.checkins.flush();
  const rows = await db.select().from(checkins).where(eq(checkins.productId, p.id));
  expect(rows).toHaveLength(5);
  expect(rows[0]).toMatchObject({ installedVersion: '0.9', wpVersion: '6.3', phpVersion: '8.1.2', locale: 'fr_FR' });
  expect(rows.map((r) => r.host).sort()).toEqual(['site0.example.org', 'site1.example.org', 'site2.example.org', 'site3.example.org', 'site4.example.org']);
  expect(rows.every((r) => r.codeId !== null)).toBe(true);
  expect(JSON.stringify(rows)).not.toMatch(/127\.0\.0\.1|::1/);
});

test('identical checks within a flush become one row that counts them', async () => {
  const p = await productWithReleases(app, vendor, { slug: 'acme-poller', versions: ['1.0'] });
  const [code] = await createCodes(app, vendor, p.id);
  const check = (site: string, installed: string) => updateCheck(app, p.id, { installed_version: installed, license: code! }, { 'user-agent': `WordPress/6.5; https://${site}` });
  for (let i = 0; i < 4; i++) await check('loop.example.org', '0.9');
  await check('loop.example.org', '1.0'); // updated since: a different row
  await check('calm.example.org', '0.9');
  await app.runtime.services.checkins.flush();
  const rows = await app.runtime.database.db.select().from(checkins).where(eq(checkins.productId, p.id));
  const summary = rows.map((r) => `${r.host} ${r.installedVersion} ×${r.checks}`).sort();
  expect(summary).toEqual(['calm.example.org 0.9 ×1', 'loop.example.org 0.9 ×4', 'loop.example.org 1.0 ×1']);
});
