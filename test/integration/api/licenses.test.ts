import { startTestApp, type TestApp } from '../../support/app';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';

let app: TestApp;
let vendor: Vendor;
let productId: string;
beforeAll(async () => {
  app = await startTestApp({ env: { RATE_LIMIT_LICENSES_PER_MINUTE: '1000' } });
  vendor = await newVendor(app);
  productId = (await productWithReleases(app, vendor, { slug: 'acme-lic', versions: ['1.0'] })).id;
});
afterAll(() => app.stop());

const call = (base: string, action: string, body: unknown) =>
  fetchJson(`${base}/api/v1/licenses/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('activate, check and deactivate report the code state and free the slot', async () => {
  const [code] = await createCodes(app, vendor, productId, { maxSites: 2, maxDownloads: 10, expiresAt: '2099-12-31' });
  const a = await call(app.url, 'activate', { productId, license: code, domain: 'https://one.example.com' });
  expect(a.status).toBe(200);
  expect(a.json).toEqual({ license: { status: 'active', expires_at: '2099-12-31', downloads_used: 0, downloads_allowed: 10, sites_used: 1, sites_allowed: 2, site_active: true } });
  await call(app.url, 'activate', { productId, license: code, domain: 'two.example.com' });
  const full = await call(app.url, 'activate', { productId, license: code, domain: 'three.example.com' });
  expect(full.status).toBe(409);
  expect(full.json.error).toMatchObject({ code: 'site_limit', message: expect.stringMatching(/2 of 2 allowed sites/) });
  const dev = await call(app.url, 'activate', { productId, license: code, domain: 'http://localhost:8888' });
  expect(dev.json.license).toMatchObject({ sites_used: 2, site_active: true });

  // The update check from a third site is refused until a slot is freed.
  expect((await updateCheck(app, productId, { license: code!, domain: 'three.example.com' })).json.license_error.code).toBe('site_limit');
  const d = await call(app.url, 'deactivate', { productId, license: code, domain: 'https://one.example.com' });
  expect(d.json.license).toMatchObject({ sites_used: 1, site_active: false });
  expect((await updateCheck(app, productId, { license: code!, domain: 'three.example.com' })).json.download_url).toBeDefined();

  const c = await call(app.url, 'check', { productId, license: code!.toLowerCase().replace(/-/g, ' '), domain: 'two.example.com' });
  expect(c.json.license).toMatchObject({ status: 'active', site_active: true });
});

test('revoked, expired and unknown codes are reported with a 4xx or their status', async () => {
  const [code] = await createCodes(app, vendor, productId, { expiresAt: '2021-06-01' });
  expect((await call(app.url, 'check', { productId, license: code })).json.license.status).toBe('expired');
  await fetchJson(`${app.url}/api/v1/purchase-codes/${code}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: '{"revoked":true}' });
  expect((await call(app.url, 'check', { productId, license: code })).json.license.status).toBe('revoked');
  const act = await call(app.url, 'activate', { productId, license: code, domain: 'x.example.com' });
  expect(act.status).toBe(403);
  expect(act.json.error.code).toBe('revoked');
  expect((await call(app.url, 'check', { productId, license: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ' })).status).toBe(404);
});

test('bad input gets a clear 4xx and writes nothing', async () => {
  const [code] = await createCodes(app, vendor, productId, { maxSites: 1 });
  const cases: [unknown, number][] = [
    ['{not json', 400],
    ['[1,2]', 400],
    [{ productId: 'nope', license: code, domain: 'a.example.com' }, 422],
    [{ productId, license: 42, domain: 'a.example.com' }, 422],
    [{ productId, license: code }, 422],
    [{ productId, license: code, domain: { evil: true } }, 422],
    [JSON.stringify({ productId, license: code, domain: 'x'.repeat(1_100_000) }), 413],
  ];
  for (const [body, status] of cases) {
    const res = await call(app.url, 'activate', body);
    expect({ body: String(JSON.stringify(body)).slice(0, 60), status: res.status, json: typeof res.json?.error?.message }).toEqual({ body: String(JSON.stringify(body)).slice(0, 60), status, json: 'string' });
  }
  expect((await call(app.url, 'check', { productId, license: code })).json.license.sites_used).toBe(0);
});

test('the license API and the update check are rate limited per IP with Retry-After', async () => {
  const strict = await startTestApp({ env: { RATE_LIMIT_LICENSES_PER_MINUTE: '5', RATE_LIMIT_UPDATES_PER_MINUTE: '20' } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await call(strict.url, 'check', { productId, license: 'AAAA' })).status);
    expect(statuses.slice(0, 5).every((s) => s === 422 || s === 404)).toBe(true);
    const limited = await call(strict.url, 'check', { productId, license: 'AAAA' });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const updates: number[] = [];
    for (let i = 0; i < 22; i++) updates.push((await fetchJson(`${strict.url}/api/v1/updates/${productId}`)).status);
    expect(updates.slice(0, 20).every((s) => s === 404)).toBe(true); // this app has no such product
    expect(updates.slice(20)).toEqual([429, 429]);
  } finally {
    await strict.stop();
  }
});
