import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, fetchJson, newVendor, updateCheck, type Vendor } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';

const HOSTS = Array.from({ length: 1000 }, (_, i) => `site-${i}.shop-${i % 7}.com`);

describe.each(DB_KINDS)('rollouts, beta channel, compatibility, pulling (%s)', (db) => {
  let app: TestApp;
  let vendor: Vendor;

  beforeAll(async () => {
    // 1,000 sites check from one address here: the per-IP limit is not what is under test.
    app = await startTestApp({ db, env: { RATE_LIMIT_UPDATES_PER_MINUTE: '0' } });
    vendor = await newVendor(app);
  });
  afterAll(() => app.stop());

  const call = (method: string, path: string, body?: unknown) => api(app.url, vendor.key, method, `/api/v1${path}`, body);

  async function product(slug: string, opts: { free?: boolean } = {}): Promise<string> {
    const res = await call('POST', '/products', { type: 'plugin', slug, name: `Product ${slug}`, free: opts.free ?? true });
    expect(res.status).toBe(201);
    return res.json.id;
  }

  async function release(id: string, slug: string, version: string, headers: Record<string, string> = {}) {
    const post = await call('POST', `/products/${id}/uploads`);
    expect((await postToS3(post.json, pluginZip(slug, version, { headers }))).status).toBe(204);
    const fin = await call('POST', `/products/${id}/versions`, { key: post.json.key });
    expect(fin.status).toBe(201);
    await app.runtime.services.releases.idle();
    const ready = await call('GET', `/products/${id}/versions/${version}`);
    expect(ready.json.status).toBe('ready');
    return ready.json;
  }

  const offered = async (id: string, host: string, params: Record<string, string> = {}) => (await updateCheck(app, id, { installed_version: '1.0', domain: `https://${host}`, ...params })).json;

  async function sitesOffered(id: string, version: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < HOSTS.length; i += 50) {
      const answers = await Promise.all(HOSTS.slice(i, i + 50).map((h) => offered(id, h)));
      answers.forEach((a, j) => a.version === version && out.add(HOSTS[i + j]!));
    }
    return out;
  }

  test('the vendor API: PATCH a version, the product default and a code; bad input is a 422, another vendor a 404', async () => {
    const id = await product('api-shape', { free: false });
    await release(id, 'api-shape', '1.0');
    const patched = await call('PATCH', `/products/${id}/versions/1.0`, { rollout_percent: 25, paused: true, channel: 'beta', pulled: true });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ version: '1.0', rollout_percent: 25, paused: true, channel: 'beta', pulled: true, status: 'ready' });
    expect((await call('PATCH', `/products/${id}/versions/1.0`, { pulled: false, paused: false })).json).toMatchObject({ rollout_percent: 25, paused: false, channel: 'beta', pulled: false });
    for (const bad of [{ rollout_percent: 0 }, { rollout_percent: 101 }, { rollout_percent: 12.5 }, { rollout_percent: 'many' }, { rollout_percent: null }, { channel: 'alpha' }, { paused: 'maybe' }]) {
      const res = await call('PATCH', `/products/${id}/versions/1.0`, bad);
      expect({ bad, status: res.status }).toEqual({ bad, status: 422 });
      expect(res.json.error.fields).toBeDefined();
    }
    expect((await call('PATCH', `/products/${id}/versions/9.9`, { paused: true })).status).toBe(404);

    const defaults = await call('PATCH', `/products/${id}`, { default_rollout_percent: 10 });
    expect(defaults.status).toBe(200);
    expect(defaults.json.default_rollout_percent).toBe(10);
    expect((await call('PATCH', `/products/${id}`, { default_rollout_percent: 0 })).status).toBe(422);
    // Nothing is written when any part is refused.
    expect((await call('PATCH', `/products/${id}`, { default_rollout_percent: 20, name: '' })).status).toBe(422);
    expect((await call('PATCH', `/products/${id}`, { default_rollout_percent: 30, name: 'Renamed' })).json).toMatchObject({ default_rollout_percent: 30, name: 'Renamed' });
    expect((await call('PATCH', `/products/${id}`, { default_rollout_percent: 10 })).json.default_rollout_percent).toBe(10);
    // New releases start at the default; a pre-release Version goes to the beta channel by itself.
    expect(await release(id, 'api-shape', '1.1')).toMatchObject({ rollout_percent: 10, channel: 'stable', paused: false, pulled: false });
    expect(await release(id, 'api-shape', '2.0.0-beta.1')).toMatchObject({ rollout_percent: 10, channel: 'beta' });

    const [code] = await createCodes(app, vendor, id);
    const beta = await call('PATCH', `/purchase-codes/${code}`, { beta: true });
    expect(beta.status).toBe(200);
    expect(beta.json).toMatchObject({ beta: true, status: 'active' });
    expect((await call('PATCH', `/purchase-codes/${code}`, { beta: 'yes' })).status).toBe(400);

    const other = await newVendor(app, 'other');
    expect((await api(app.url, other.key, 'PATCH', `/api/v1/products/${id}/versions/1.0`, { paused: true })).status).toBe(404);
    expect((await api(app.url, other.key, 'PATCH', `/api/v1/products/${id}`, { default_rollout_percent: 50 })).status).toBe(404);
    expect((await api(app.url, other.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { beta: false })).status).toBe(404);
  });

  test('1,000 sites: 25% offers the new version to 20–30% of them, the same ones on every check; 50% keeps those and adds others; pause and resume', async () => {
    const id = await product('staged');
    await release(id, 'staged', '1.0');
    await release(id, 'staged', '2.0');
    expect((await call('PATCH', `/products/${id}/versions/2.0`, { rollout_percent: 25 })).status).toBe(200);
    const at25 = await sitesOffered(id, '2.0');
    expect(at25.size).toBeGreaterThanOrEqual(200);
    expect(at25.size).toBeLessThanOrEqual(300);
    expect(await sitesOffered(id, '2.0')).toEqual(at25);
    // The others are offered the previous fully-live version, with a download.
    const outside = HOSTS.find((h) => !at25.has(h))!;
    expect(await offered(id, outside)).toMatchObject({ version: '1.0', download_url: expect.any(String) });

    await call('PATCH', `/products/${id}/versions/2.0`, { rollout_percent: 50 });
    const at50 = await sitesOffered(id, '2.0');
    expect(at50.size).toBeGreaterThanOrEqual(450);
    expect(at50.size).toBeLessThanOrEqual(550);
    expect([...at25].filter((h) => !at50.has(h))).toEqual([]);

    await call('PATCH', `/products/${id}/versions/2.0`, { paused: true });
    const inside = [...at25][0]!;
    expect((await offered(id, inside)).version).toBe('1.0');
    expect((await call('GET', `/products/${id}/versions/2.0`)).json).toMatchObject({ rollout_percent: 50, paused: true });
    await call('PATCH', `/products/${id}/versions/2.0`, { paused: false });
    expect(await sitesOffered(id, '2.0')).toEqual(at50);

    await call('PATCH', `/products/${id}/versions/2.0`, { rollout_percent: 100 });
    expect((await sitesOffered(id, '2.0')).size).toBe(1000);
  });

  test('beta releases reach only beta codes and checks with channel=beta', async () => {
    const id = await product('betas', { free: false });
    await release(id, 'betas', '1.0');
    await release(id, 'betas', '2.0-rc1');
    const [plain, tester] = await createCodes(app, vendor, id, { count: 2 });
    expect((await call('PATCH', `/purchase-codes/${tester}`, { beta: true })).status).toBe(200);
    const host = 'beta-site.example.com';
    expect(await offered(id, host, { license: plain!, installed_version: '0.9' })).toMatchObject({ version: '1.0', download_url: expect.any(String) });
    expect(await offered(id, host, { license: tester!, installed_version: '0.9' })).toMatchObject({ version: '2.0-rc1', download_url: expect.any(String) });
    expect(await offered(id, host, { license: plain!, installed_version: '0.9', channel: 'beta' })).toMatchObject({ version: '2.0-rc1', download_url: expect.any(String) });
    expect((await offered(id, host, { license: plain!, channel: 'nightly' })).version).toBe('1.0');
    // By hand: the vendor moves it to stable.
    await call('PATCH', `/products/${id}/versions/2.0-rc1`, { channel: 'stable' });
    expect((await offered(id, host, { license: plain! })).version).toBe('2.0-rc1');
    await call('PATCH', `/purchase-codes/${tester}`, { beta: false });
    await call('PATCH', `/products/${id}/versions/2.0-rc1`, { channel: 'beta' });
    expect((await offered(id, host, { license: tester! })).version).toBe('1.0');
  });

  test('a PHP 7.4 site is held at the last version that supports it, with compat_notice; no versions sent: not gated', async () => {
    const id = await product('compat');
    await release(id, 'compat', '1.0', { 'Requires PHP': '7.4', 'Requires at least': '5.8' });
    await release(id, 'compat', '2.0', { 'Requires PHP': '8.1', 'Requires at least': '6.5' });
    const old = await offered(id, 'old.example.com', { php: '7.4.33', installed_version: '0.9' });
    expect(old).toMatchObject({ version: '1.0', requires_php: '7.4', download_url: expect.any(String) });
    expect(old.compat_notice).toBe('Version 2.0 needs PHP 8.1 or later (this site runs PHP 7.4.33); update PHP to get it.');
    const wp = (await updateCheck(app, id, { installed_version: '0.9', php: '8.2' }, { 'user-agent': 'WordPress/6.4.2; https://wp.example.com' })).json;
    expect(wp).toMatchObject({ version: '1.0', compat_notice: 'Version 2.0 needs WordPress 6.5 or later (this site runs WordPress 6.4.2); update WordPress to get it.' });
    const current = await offered(id, 'new.example.com', { php: '8.2.1' });
    expect(current.version).toBe('2.0');
    expect(current.compat_notice).toBeUndefined();
    expect((await updateCheck(app, id, { installed_version: '1.0' })).json).toMatchObject({ version: '2.0' });
  });

  test('a pulled version disappears from answers and its download URL stops working; un-pulling restores it', async () => {
    const id = await product('pulled', { free: false });
    await release(id, 'pulled', '1.0');
    await release(id, 'pulled', '1.1');
    const [code] = await createCodes(app, vendor, id);
    const before = await offered(id, 'pull.example.com', { license: code! });
    expect(before.version).toBe('1.1');

    const pulled = await call('PATCH', `/products/${id}/versions/1.1`, { pulled: true });
    expect(pulled.json).toMatchObject({ pulled: true, pulled_at: expect.any(String) });
    const after = await offered(id, 'pull.example.com', { license: code! });
    expect(after).toMatchObject({ version: '1.0', download_url: expect.any(String) });
    const refused = await fetchJson(before.download_url);
    expect(refused.status).toBe(404);
    expect(refused.json.error.message).toBe('This version is no longer available.');
    expect((await fetchJson(after.download_url)).status).toBe(302);

    await call('PATCH', `/products/${id}/versions/1.1`, { pulled: false });
    expect((await offered(id, 'pull.example.com', { license: code! })).version).toBe('1.1');
    expect((await fetchJson(before.download_url)).status).toBe(302);
  });

  test('every release pulled, or a first release rolling out elsewhere: the site is held at what it has', async () => {
    const id = await product('held');
    await release(id, 'held', '1.0');
    await call('PATCH', `/products/${id}/versions/1.0`, { rollout_percent: 1 });
    const host = HOSTS[0]!;
    const answers = await Promise.all(HOSTS.slice(0, 200).map((h) => offered(id, h, { installed_version: '0.5' })));
    const held = answers.filter((a) => a.version === '0.5');
    expect(held.length).toBeGreaterThan(150);
    for (const a of held) expect(a.download_url).toBeUndefined();
    await call('PATCH', `/products/${id}/versions/1.0`, { rollout_percent: 100, pulled: true });
    expect(await offered(id, host, { installed_version: '0.5' })).toMatchObject({ version: '0.5', name: 'Product held' });
  });
});
