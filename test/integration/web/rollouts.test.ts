import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';

function rolloutRow(html: string, version: string): string {
  const m = new RegExp(`<tr data-rollout="${version.replace(/\./g, '\\.')}"[\\s\\S]*?</tr>`).exec(html);
  if (!m) throw new Error(`no rollout row for ${version}`);
  return m[0];
}

describe.each(DB_KINDS)('rollout controls in the dashboard (%s)', (db) => {
  let app: TestApp;
  let vendor: Vendor;
  let id: string;
  let v11: string;

  beforeAll(async () => {
    app = await startTestApp({ db });
    vendor = await newVendor(app);
    ({ id } = await productWithReleases(app, vendor, { slug: 'dash-rollout', versions: ['1.0', '1.1'], free: true }));
    v11 = (await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/versions/1.1`)).json.id;
  });
  afterAll(() => app.stop());

  const page = async () => (await vendor.web.get(`/products/${id}`)).text;
  const version = async (v: string) => (await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/versions/${v}`)).json;

  test('percentage, pause and resume, complete and channel, each a CSRF-protected form answered with a redirect', async () => {
    expect(rolloutRow(await page(), '1.1')).toContain('data-percent="100"');
    const base = `/products/${id}/versions/${v11}/rollout`;
    expect((await vendor.web.post(base, { rollout_percent: '25' }, { csrf: false })).status).toBe(403);
    expect((await version('1.1')).rollout_percent).toBe(100);

    const set = await vendor.web.post(base, { rollout_percent: '25' });
    expect(set.status).toBe(303);
    expect(set.location).toBe(`/products/${id}#rollouts`);
    let html = (await vendor.web.get(set.location!)).text;
    expect(html).toContain('Rollout saved.');
    expect(rolloutRow(html, '1.1')).toContain('data-percent="25"');

    await vendor.web.post(base, { paused: 'true' });
    html = await page();
    expect(rolloutRow(html, '1.1')).toContain('data-paused="true"');
    expect(rolloutRow(html, '1.1')).toContain('Resume');
    await vendor.web.post(base, { paused: 'false' });
    expect(await version('1.1')).toMatchObject({ rollout_percent: 25, paused: false });

    await vendor.web.get(`/products/${id}`);
    await vendor.web.post(base, { complete: '1' });
    expect(await version('1.1')).toMatchObject({ rollout_percent: 100, paused: false });
    await vendor.web.post(base, { channel: 'beta' });
    expect(rolloutRow(await page(), '1.1')).toContain('data-channel="beta"');
    await vendor.web.post(base, { channel: 'stable' });

    const bad = await vendor.web.post(base, { rollout_percent: '250' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('from 1 to 100');
  });

  test("the product's default percentage", async () => {
    await vendor.web.get(`/products/${id}`);
    expect((await vendor.web.post(`/products/${id}/rollout-default`, { default_rollout_percent: '10' })).status).toBe(303);
    expect(await page()).toMatch(/name="default_rollout_percent"[^>]*value="10"/);
    expect((await vendor.web.post(`/products/${id}/rollout-default`, { default_rollout_percent: '0' })).status).toBe(422);
    await vendor.web.get(`/products/${id}`);
    await vendor.web.post(`/products/${id}/rollout-default`, { default_rollout_percent: '100' });
  });

  test('pulling asks first, saying how many sites run the version; un-pulling restores it', async () => {
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com']) await updateCheck(app, id, { installed_version: host === 'c.example.com' ? '1.0' : '1.1', domain: host });
    await app.runtime.services.checkins.flush();
    expect(rolloutRow(await page(), '1.1')).toMatch(/<td>2<\/td>/);

    const confirm = await vendor.web.get(`/products/${id}/versions/${v11}/pull`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toMatch(/<strong>2<\/strong> of the 3 sites/);
    const pulled = await vendor.web.post(`/products/${id}/versions/${v11}/pull`, { pulled: 'true' });
    expect(pulled.status).toBe(303);
    expect(await version('1.1')).toMatchObject({ pulled: true });
    expect((await updateCheck(app, id, { installed_version: '1.0', domain: 'd.example.com' })).json.version).toBe('1.0');
    expect(rolloutRow(await page(), '1.1')).toContain('Un-pull');

    const restore = await vendor.web.get(`/products/${id}/versions/${v11}/pull`);
    expect(restore.text).toContain('Restore 1.1');
    await vendor.web.post(`/products/${id}/versions/${v11}/pull`, { pulled: 'false' });
    expect((await updateCheck(app, id, { installed_version: '1.0', domain: 'd.example.com' })).json.version).toBe('1.1');
  });

  test("a code's beta flag", async () => {
    const paid = await productWithReleases(app, vendor, { slug: 'dash-beta', versions: ['1.0'] });
    const [code] = await createCodes(app, vendor, paid.id);
    const codeId = (await api(app.url, vendor.key, 'GET', `/api/v1/purchase-codes/${code}`)).json.id;
    const show = await vendor.web.get(`/products/${paid.id}/codes/${codeId}`);
    expect(show.text).toContain('Give beta releases');
    const flagged = await vendor.web.post(`/products/${paid.id}/codes/${codeId}/beta`, { beta: 'true' });
    expect(flagged.status).toBe(303);
    expect((await vendor.web.get(flagged.location!)).text).toMatch(/class="code-channel">beta</);
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/purchase-codes/${code}`)).json.beta).toBe(true);
  });

  test("another vendor's product, version or code is a 404", async () => {
    const other = await newVendor(app, 'other');
    await other.web.get('/products');
    expect((await other.web.get(`/products/${id}/versions/${v11}/pull`)).status).toBe(404);
    expect((await other.web.post(`/products/${id}/versions/${v11}/pull`, { pulled: 'true' })).status).toBe(404);
    expect((await other.web.post(`/products/${id}/versions/${v11}/rollout`, { paused: 'true' })).status).toBe(404);
    expect((await other.web.post(`/products/${id}/rollout-default`, { default_rollout_percent: '5' })).status).toBe(404);
    expect(await version('1.1')).toMatchObject({ pulled: false, paused: false });
  });
});
