import { purchaseCodes } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, productWithReleases, updateCheck } from '../../support/fixtures';

/** Editing purchase codes after the sale: renewal, limits, customer fields; bulk actions; old and new code forms. */

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function rowOf(html: string, codeId: string): string {
  const m = new RegExp(`<tr data-code-id="${codeId}">[\\s\\S]*?</tr>`).exec(html);
  if (!m) throw new Error(`no row for ${codeId}`);
  return m[0];
}

describe.each(DB_KINDS)('editing purchase codes (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('PATCH renews, changes limits and sets the customer; the next update check sees it', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'renewals', versions: ['1.0'] });
    const [code] = await createCodes(app, v, p.id, { expiresAt: '2001-01-01', maxSites: 1 });
    expect((await updateCheck(app, p.id, { license: code! })).json.license_error.code).toBe('expired');

    const renewed = await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { expiresAt: '2099-12-31', maxSites: 2, customerEmail: 'Jane@Example.com', customerName: 'Jane Doe' });
    expect(renewed.status).toBe(200);
    expect(renewed.json).toMatchObject({ status: 'active', expires_at: '2099-12-31', max_sites: 2, customer_email: 'Jane@Example.com', customer_name: 'Jane Doe' });
    expect((await updateCheck(app, p.id, { license: code!, domain: 'a.example.com' })).json.download_url).toBeDefined();

    // Only the keys sent change; null removes a limit or the expiry.
    const open = await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { expiresAt: null, maxSites: null });
    expect(open.json).toMatchObject({ expires_at: null, max_sites: null, customer_name: 'Jane Doe' });
    // Revoking and editing at once; bad input is a 422 naming the field and changes nothing.
    expect((await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: true, note: 'refunded' })).json).toMatchObject({ status: 'revoked', note: 'refunded' });
    const bad = await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { customerEmail: 'not an address', maxDownloads: 0 });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.error.fields).sort()).toEqual(['customerEmail', 'maxDownloads']);
    expect((await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { colour: 'red' })).status).toBe(400);
    expect((await api(app.url, v.key, 'GET', `/api/v1/purchase-codes/${code}`)).json).toMatchObject({ customer_email: 'Jane@Example.com', max_downloads: null });

    // Searchable by the customer's address and name.
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?search=jane%40example`)).json.codes.map((c: { code: string }) => c.code)).toEqual([code]);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?search=doe`)).json.total).toBe(1);

    // Another vendor cannot edit it.
    const bob = await newVendor(app, 'bob');
    expect((await api(app.url, bob.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { expiresAt: '2099-01-01' })).status).toBe(404);
  });

  test('a 32-character code made before still works everywhere; new ones are 26 characters', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'legacy-codes', versions: ['1.0'] });
    const legacy = '7K3M9ZD2XQ4R8T6V1W0YHJNPSABCEFGK';
    await app.runtime.database.db.insert(purchaseCodes).values({ productId: p.id, code: legacy });
    const grouped = legacy.match(/.{4}/g)!.join('-');
    expect((await updateCheck(app, p.id, { license: grouped.toLowerCase(), domain: 'old.example.com' })).json.download_url).toBeDefined();
    expect((await api(app.url, v.key, 'GET', `/api/v1/purchase-codes/${legacy}`)).json.code).toBe(grouped);
    const [fresh] = await createCodes(app, v, p.id);
    expect(fresh!.replace(/-/g, '')).toHaveLength(26);
    expect((await updateCheck(app, p.id, { license: fresh!.replace(/-/g, ' '), domain: 'new.example.com' })).json.download_url).toBeDefined();
  });

  test('the dashboard edits a code, shows sites used / allowed, and exports the customer', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'dash-edit', versions: ['1.0'] });
    const [code] = await createCodes(app, v, p.id, { maxSites: 3 });
    const activated = await fetch(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: p.id, license: code, domain: 'https://shop.example.com' }) });
    expect(activated.status).toBe(200);
    const codeId = (await api(app.url, v.key, 'GET', `/api/v1/purchase-codes/${code}`)).json.id as string;
    const base = `/products/${p.id}/codes`;

    let list = await v.web.get(base);
    expect(rowOf(list.text, codeId)).toContain('<td data-label="Sites" class="sites-used">1 / 3</td>');
    expect(rowOf(list.text, codeId)).toContain('<td data-label="Downloads" class="downloads-used">0 / unlimited</td>');

    const form = await v.web.get(`${base}/${codeId}/edit`);
    expect(form.status).toBe(200);
    const bad = await v.web.post(`${base}/${codeId}/edit`, { expiresAt: '2030-02-30', maxDownloads: '', maxSites: '3', customerEmail: 'x', customerName: 'Jane', note: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="error-summary"');
    expect(bad.text).toContain('<p class="field-error" id="customerEmail-error">');
    expect(bad.text).toContain('value="Jane"');

    const saved = await v.web.post(`${base}/${codeId}/edit`, { expiresAt: '2031-06-30', maxDownloads: '10', maxSites: '', customerEmail: 'jane@shop.example', customerName: 'Jane Shop', note: 'order 77' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`${base}/${codeId}`);
    const page = await v.web.get(saved.location!);
    expect(page.text).toContain('Purchase code saved.');
    expect(page.text).toContain('after 2031-06-30');
    expect(page.text).toContain('1 of unlimited');
    expect(page.text).toContain('jane@shop.example');

    list = await v.web.get(`${base}?search=Jane+Shop`);
    expect(rowOf(list.text, codeId)).toContain('1 / unlimited');
    expect(rowOf(list.text, codeId)).toContain('Jane Shop');
    const csv = (await v.web.get(`${base}.csv?search=jane%40shop`)).text.trimEnd().split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('"jane@shop.example","Jane Shop","order 77"');
  });

  test('bulk actions: revoke the ticked codes, set the expiry of a whole filter, export the ticked ones', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'bulk-dash', versions: ['1.0'] });
    const base = `/products/${p.id}/codes`;
    await createCodes(app, v, p.id, { count: 3, note: 'batch A' });
    await createCodes(app, v, p.id, { count: 2, note: 'batch B' });
    const list = await v.web.get(base);
    const ids = [...list.text.matchAll(new RegExp(`name="ids" value="(${UUID})"`, 'g'))].map((m) => m[1]!);
    expect(ids).toHaveLength(5);

    const body = new URLSearchParams({ _csrf: v.web.csrf, action: 'revoke', scope: 'selected', search: '', status: '' });
    body.append('ids', ids[0]!);
    body.append('ids', ids[1]!);
    const revoked = await v.web.request('POST', `${base}/bulk`, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(revoked.status).toBe(303);
    expect((await v.web.get(revoked.location!)).text).toContain('2 codes revoked.');
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?status=revoked`)).json.total).toBe(2);

    const extended = await v.web.post(`${base}/bulk`, { action: 'expiry', scope: 'filter', search: 'batch A', status: '', expiresAt: '2040-01-31' });
    expect(extended.location).toBe(`${base}?search=batch+A`);
    expect((await v.web.get(extended.location!)).text).toContain('Expiry of 3 codes set to 2040-01-31.');
    const all = (await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes`)).json.codes as { note: string; expires_at: string | null }[];
    expect(all.filter((c) => c.note === 'batch A').map((c) => c.expires_at)).toEqual(['2040-01-31', '2040-01-31', '2040-01-31']);
    expect(all.filter((c) => c.note === 'batch B').map((c) => c.expires_at)).toEqual([null, null]);

    const badDate = await v.web.post(`${base}/bulk`, { action: 'expiry', scope: 'filter', search: '', status: '', expiresAt: 'soon' });
    expect((await v.web.get(badDate.location!)).text).toContain('Expiry not changed');

    const exp = new URLSearchParams({ _csrf: v.web.csrf, action: 'export', scope: 'selected' });
    exp.append('ids', ids[4]!);
    const csv = await v.web.request('POST', `${base}/bulk`, { body: exp, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.text.trimEnd().split('\r\n')).toHaveLength(2);

    // Nothing ticked: said so, nothing changed. Another vendor: 404.
    const none = await v.web.post(`${base}/bulk`, { action: 'revoke', scope: 'selected' });
    expect((await v.web.get(none.location!)).text).toContain('Choose the codes first');
    const bob = await newVendor(app, 'bob');
    await bob.web.get('/products');
    expect((await bob.web.post(`${base}/bulk`, { action: 'revoke', scope: 'filter' })).status).toBe(404);
    expect((await bob.web.get(`${base}/${ids[2]}/edit`)).status).toBe(404);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}/purchase-codes?status=revoked`)).json.total).toBe(2);
  });

  test('a single new code is confirmed like a batch', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'single', versions: [] });
    await v.web.get(`/products/${p.id}/codes/new`);
    const made = await v.web.post(`/products/${p.id}/codes`, { count: '1', customerEmail: 'solo@example.com' });
    expect(made.status).toBe(303);
    const page = await v.web.get(made.location!);
    expect(page.text).toContain('Purchase code created.');
    expect(page.text).toContain('data-copy="#code-value"');
    expect(page.text).toContain('solo@example.com');
  });
});
