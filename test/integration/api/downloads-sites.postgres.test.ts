import { eq } from 'drizzle-orm';
import { codeSites, downloads, purchaseCodes } from '../../../src/db/schema';
import { startTestApp } from '../../support/app';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck } from '../../support/fixtures';

// Concurrent first downloads from many sites only race on a PostgreSQL server (PGlite is one session).
test('concurrency on the PostgreSQL server: first downloads from 20 new sites on a 2-site code → exactly 2 sites bound; one new site downloading 10 times at once → bound once', async () => {
  const app = await startTestApp({ db: 'postgres' });
  try {
    const vendor = await newVendor(app);
    const product = await productWithReleases(app, vendor, { slug: 'site-race', versions: ['1.0'] });
    const [code, single] = await createCodes(app, vendor, product.id, { count: 2, maxSites: 2 });
    const urlFor = async (c: string, site: string) => (await updateCheck(app, product.id, { license: c, domain: `https://${site}` })).json.download_url as string;
    const urls = await Promise.all(Array.from({ length: 20 }, (_, i) => urlFor(code!, `site${i}.example.com`)));
    const results = await Promise.all(urls.map((u) => fetchJson(u)));
    const ok = results.filter((r) => r.status === 302).length;
    expect({ ok, refused: results.filter((r) => r.status === 403 && r.json.error.code === 'site_limit').length }).toEqual({ ok: 2, refused: 18 });
    const db = app.runtime.database.db;
    const row = (await db.select().from(purchaseCodes).where(eq(purchaseCodes.code, code!.replace(/-/g, ''))))[0]!;
    const sites = await db.select().from(codeSites).where(eq(codeSites.codeId, row.id));
    expect(sites.filter((s) => s.active && s.countsTowardLimit)).toHaveLength(2);
    expect(row.downloadsUsed).toBe(2);
    expect(await db.select().from(downloads).where(eq(downloads.codeId, row.id))).toHaveLength(2);
    // The update check on this server knows at once: a third site is refused, a bound one is not.
    expect((await updateCheck(app, product.id, { license: code!, domain: 'https://third.example.com' })).json.license_error.code).toBe('site_limit');

    const same = await urlFor(single!, 'shop.example.com');
    const again = await Promise.all(Array.from({ length: 10 }, () => fetchJson(same)));
    expect(again.map((r) => r.status)).toEqual(Array(10).fill(302));
    const singleRow = (await db.select().from(purchaseCodes).where(eq(purchaseCodes.code, single!.replace(/-/g, ''))))[0]!;
    expect(await db.select().from(codeSites).where(eq(codeSites.codeId, singleRow.id))).toHaveLength(1);
    expect(singleRow.downloadsUsed).toBe(10);
  } finally {
    await app.stop();
  }
});
