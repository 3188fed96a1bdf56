import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { newVendor, productWithReleases, updateCheck } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';

describe.each(DB_KINDS)('the vendor purchase-code API (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('vendors create codes in bulk, list and filter them, and revoke and reinstate by value', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'bulk', versions: ['1.0'] });
    const created = await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, { count: 20, maxSites: 3, maxDownloads: 50, expiresAt: '2030-01-01', note: 'order #42' });
    expect(created.status).toBe(201);
    expect(created.json.codes).toHaveLength(20);
    const codes: string[] = created.json.codes.map((c: any) => c.code);
    expect(new Set(codes).size).toBe(20);
    for (const c of codes) expect(c).toMatch(/^([0-9A-HJKMNP-TV-Z]{5}-){4}[0-9A-HJKMNP-TV-Z]{6}$/); // 130 random bits, grouped
    expect(created.json.codes[0]).toMatchObject({ status: 'active', max_sites: 3, max_downloads: 50, expires_at: '2030-01-01', note: 'order #42' });

    const revoked = await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${codes[3]}`, { revoked: true });
    expect(revoked.json.status).toBe('revoked');
    expect((await updateCheck(app, p.id, { license: codes[3]! })).json.license_error.code).toBe('revoked');
    const list = await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?status=revoked`);
    expect(list.json.codes.map((c: any) => c.code)).toEqual([codes[3]]);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?status=active`)).json.total).toBe(19);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?search=${encodeURIComponent(codes[7]!.slice(5, 14))}`)).json.codes.map((c: any) => c.code)).toEqual([codes[7]]);

    const back = await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${codes[3]!.replace(/-/g, '').toLowerCase()}`, { revoked: false });
    expect(back.json.status).toBe('active');
    expect((await updateCheck(app, p.id, { license: codes[3]!, domain: 'a.example.com' })).json.download_url).toBeDefined();
  });

  test("an API key reaches only its own vendor's codes and products", async () => {
    const alice = await newVendor(app, 'alice');
    const bob = await newVendor(app, 'bob');
    const p = await productWithReleases(app, alice, { slug: 'alice-only', versions: ['1.0'] });
    const code = (await api(app.url, alice.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, {})).json.codes[0].code;
    expect((await api(app.url, bob.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, {})).status).toBe(404);
    expect((await api(app.url, bob.key, 'GET', `/api/v1/products/${p.id}/purchase-codes`)).status).toBe(404);
    expect((await api(app.url, bob.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: true })).status).toBe(404);
    expect((await api(app.url, bob.key, 'GET', `/api/v1/purchase-codes/${code}`)).status).toBe(404);
    expect((await api(app.url, alice.key, 'GET', `/api/v1/purchase-codes/${code}`)).json.status).toBe('active');
  });

  test('bad input on the codes API → a clear 4xx and nothing written', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'bad-input', versions: [] });
    const bad: [unknown, number, string][] = [
      [{ count: 0 }, 422, 'count'],
      [{ count: 1001 }, 422, 'count'],
      [{ count: 'many' }, 422, 'count'],
      [{ expiresAt: '31/12/2030' }, 422, 'expiresAt'],
      [{ expiresAt: '2030-02-30' }, 422, 'expiresAt'],
      [{ maxSites: -1 }, 422, 'maxSites'],
      [{ maxDownloads: 1.5 }, 422, 'maxDownloads'],
      [{ note: 'x'.repeat(501) }, 422, 'note'],
      [[1], 400, ''],
    ];
    for (const [body, status, field] of bad) {
      const res = await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, body);
      expect({ body, status: res.status }).toEqual({ body, status });
      if (field) expect(Object.keys(res.json.error.fields)).toEqual([field]);
    }
    expect((await api(app.url, v.key, 'PATCH', '/api/v1/purchase-codes/NOPE', { revoked: true })).status).toBe(404);
    const code = (await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, {})).json.codes[0].code;
    expect((await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: 'yes' })).status).toBe(400);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes`)).json.total).toBe(1);
  });

  test('a new release (once verified) and a revoke are seen by the very next update check (no stale cache)', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'fresh', versions: ['1.0'] });
    const code = (await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/purchase-codes`, {})).json.codes[0].code;
    expect((await updateCheck(app, p.id, { license: code })).json.version).toBe('1.0');
    const post = await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/uploads`);
    await postToS3(post.json, pluginZip('fresh', '1.1'));
    await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/versions`, { key: post.json.key });
    await app.runtime.services.releases.idle();
    expect((await updateCheck(app, p.id, { license: code })).json.version).toBe('1.1');
    await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: true });
    expect((await updateCheck(app, p.id, { license: code })).json.license_error.code).toBe('revoked');
    await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/versions/1.0/live`);
    expect((await updateCheck(app, p.id, { license: code })).json.version).toBe('1.0');
  });
});
