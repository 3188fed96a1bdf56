import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { downloads, purchaseCodes } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';

const UA = { 'user-agent': 'WordPress/6.4; https://customer.example.com' };

describe.each(DB_KINDS)('package downloads (%s)', (db) => {
  let app: TestApp;
  let vendor: Vendor;
  let product: { id: string; zips: Record<string, Buffer> };
  beforeAll(async () => {
    app = await startTestApp({ db });
    vendor = await newVendor(app);
    product = await productWithReleases(app, vendor, { slug: 'acme-dl', versions: ['1.0', '1.1'] });
  });
  afterAll(() => app.stop());

  test('the download redirects to a presigned S3 URL that returns the released bytes as <slug>.zip', async () => {
    const [code] = await createCodes(app, vendor, product.id, { maxDownloads: 3 });
    const check = await updateCheck(app, product.id, { license: code!, installed_version: '1.0' }, UA);
    const res = await fetch(check.json.download_url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/X-Amz-Expires=300/);
    const s3 = await fetch(location);
    expect(s3.status).toBe(200);
    expect(s3.headers.get('content-disposition')).toBe('attachment; filename="acme-dl.zip"');
    const bytes = Buffer.from(await s3.arrayBuffer());
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(crypto.createHash('sha256').update(product.zips['1.1']!).digest('hex'));

    // Counted once, recorded with site and version; update checks never count.
    await updateCheck(app, product.id, { license: code! }, UA);
    const row = (await app.runtime.database.db.select().from(purchaseCodes).where(eq(purchaseCodes.code, code!.replace(/-/g, ''))))[0]!;
    expect(row.downloadsUsed).toBe(1);
    const history = await app.runtime.database.db.select().from(downloads).where(eq(downloads.codeId, row.id));
    expect(history).toEqual([expect.objectContaining({ version: '1.1', host: 'customer.example.com' })]);
  });

  test('a tampered or expired token gets 403 JSON with the reason', async () => {
    const [code] = await createCodes(app, vendor, product.id);
    const url: string = (await updateCheck(app, product.id, { license: code! }, UA)).json.download_url;
    const m = /\/download\/([^.]+)\.([^/]+)\//.exec(url)!;
    const payload = Buffer.from(m[1]!, 'base64url').toString();
    const swapped = Buffer.from(payload.replace('customer.example.com', 'other.example.com')).toString('base64url');
    const tampered = await fetchJson(url.replace(m[1]!, swapped));
    expect(tampered.status).toBe(403);
    expect(tampered.json.error.code).toBe('invalid_token');
    const badSig = await fetchJson(url.replace(m[2]!, 'A'.repeat(32)));
    expect(badSig.json.error.code).toBe('invalid_token');
    const parts = payload.split('|');
    parts[4] = String(Math.floor(Date.now() / 1000) - 10);
    const expiredPayload = Buffer.from(parts.join('|')).toString('base64url');
    const sig = crypto.createHmac('sha256', app.config.secretKey!).update(`download|${expiredPayload}`).digest('base64url').slice(0, 32);
    const expired = await fetchJson(`${app.url}/api/v1/download/${expiredPayload}.${sig}/acme-dl.zip`);
    expect(expired.status).toBe(403);
    expect(expired.json.error).toMatchObject({ code: 'token_expired', message: expect.stringMatching(/expired/) });
    expect((await fetchJson(`${app.url}/api/v1/download/garbage`)).status).toBe(403);
  });

  test('a token replayed past its limit, or after a revoke, is refused with the reason', async () => {
    const [code] = await createCodes(app, vendor, product.id, { maxDownloads: 2 });
    const url: string = (await updateCheck(app, product.id, { license: code! }, UA)).json.download_url;
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    const third = await fetchJson(url);
    expect(third.status).toBe(403);
    expect(third.json.error).toMatchObject({ code: 'download_limit', message: expect.stringMatching(/all 2 of its downloads/) });

    const [other] = await createCodes(app, vendor, product.id);
    const url2: string = (await updateCheck(app, product.id, { license: other! }, UA)).json.download_url;
    await fetchJson(`${app.url}/api/v1/purchase-codes/${other}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: '{"revoked":true}' });
    const revoked = await fetchJson(url2);
    expect(revoked.status).toBe(403);
    expect(revoked.json.error.code).toBe('revoked');
  });

  test('sites bind on first download; development hosts never use a slot', async () => {
    const [code] = await createCodes(app, vendor, product.id, { maxSites: 1 });
    const dl = async (site: string) => {
      const check = await updateCheck(app, product.id, { license: code!, domain: site });
      return check.json.download_url ? (await fetch(check.json.download_url, { redirect: 'manual' })).status : check.json.license_error.code;
    };
    expect(await dl('https://staging.test')).toBe(302);
    expect(await dl('http://localhost:8080')).toBe(302);
    expect(await dl('http://192.168.1.20')).toBe(302);
    expect(await dl('https://first.example.com')).toBe(302);
    expect(await dl('https://www.first.example.com')).toBe(302); // same site
    expect(await dl('https://second.example.com')).toBe('site_limit');
  });
});

test.each(DB_KINDS)('concurrency (%s): 50 simultaneous downloads of a 5-download code → exactly 5 succeed', async (db) => {
  const app = await startTestApp({ db });
  try {
    const vendor = await newVendor(app);
    const product = await productWithReleases(app, vendor, { slug: 'race', versions: ['1.0'] });
    const [code] = await createCodes(app, vendor, product.id, { maxDownloads: 5 });
    const url: string = (await updateCheck(app, product.id, { license: code! }, UA)).json.download_url;
    const results = await Promise.all(Array.from({ length: 50 }, () => fetchJson(url)));
    const ok = results.filter((r) => r.status === 302);
    const refused = results.filter((r) => r.status === 403);
    expect({ ok: ok.length, refused: refused.length }).toEqual({ ok: 5, refused: 45 });
    expect(refused.every((r) => r.json.error.code === 'download_limit')).toBe(true);
    const row = (await app.runtime.database.db.select().from(purchaseCodes).where(eq(purchaseCodes.code, code!.replace(/-/g, ''))))[0]!;
    expect(row.downloadsUsed).toBe(5);
    expect(await app.runtime.database.db.select().from(downloads).where(eq(downloads.codeId, row.id))).toHaveLength(5);
  } finally {
    await app.stop();
  }
});
