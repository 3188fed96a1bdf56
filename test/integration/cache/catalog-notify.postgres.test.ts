import { startTestApp, type TestApp } from '../../support/app';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck } from '../../support/fixtures';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';

/**
 * Two app servers on one PostgreSQL, caches that would trust an entry for an hour: a write on one
 * reaches the other's in-process cache through LISTEN/NOTIFY, in well under the TTLs.
 */
test("a revoke, a deactivated site and a product edit on one server reach the other's cache at once", async () => {
  const db: TestDatabase = await createTestDatabase();
  const env = { DATABASE_URL: db.url, CACHE_L1_TTL_MS: '60000', CACHE_SHARED_FRESH_SECONDS: '3600' };
  const apps: TestApp[] = [];
  try {
    const a = await startTestApp({ env });
    apps.push(a);
    const b = await startTestApp({ env });
    apps.push(b);
    const vendor = await newVendor(a);
    const product = await productWithReleases(a, vendor, { slug: 'notify-probe', versions: ['1.0'] });
    const [code] = await createCodes(a, vendor, product.id, { maxSites: 1 });
    const ua = (site: string) => ({ 'user-agent': `WordPress/6.5; https://${site}` });
    const onB = async (site = 'shop.example.com') => (await updateCheck(b, product.id, { license: code! }, ua(site))).json;
    const within = async (what: string, ok: () => Promise<boolean>) => {
      const started = Date.now();
      while (!(await ok())) {
        if (Date.now() - started > 5000) throw new Error(`${what}: not seen on the other server within 5 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // A site takes the code's only slot on A; B, which had answered "allowed" for another site, learns it.
    expect((await onB('other.example.com')).download_url).toBeDefined();
    const activate = (path: string) => fetchJson(`${a.url}/api/v1/licenses/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: product.id, license: code, domain: 'https://shop.example.com' }) });
    expect((await activate('activate')).status).toBe(200);
    await within('activation', async () => (await onB('other.example.com')).license_error?.code === 'site_limit');
    expect((await activate('deactivate')).status).toBe(200);
    await within('deactivation', async () => (await onB('other.example.com')).license_error === undefined);

    await fetchJson(`${a.url}/api/v1/purchase-codes/${code}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: '{"revoked":true}' });
    await within('revoke', async () => (await onB()).license_error?.code === 'revoked');

    await fetchJson(`${a.url}/api/v1/products/${product.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: '{"name":"Renamed on A"}' });
    await within('product edit', async () => (await onB()).name === 'Renamed on A');
  } finally {
    for (const app of apps) await app.stop();
    await db.drop();
  }
}, 120_000);
