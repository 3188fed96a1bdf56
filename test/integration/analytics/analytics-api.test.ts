import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../src/db/rows';
import { maintainCheckins, windowStart } from '../../../src/services/analytics/analytics.service';
import { CheckinRecorder } from '../../../src/services/updates/checkin.recorder';
import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { seedCheckins } from '../../support/analytics-seed';

const DAY = 86_400_000;

describe.each(DB_KINDS)('analytics (%s): numbers equal SQL over the raw check-ins', (db) => {
  let app: TestApp;
  let alice: Vendor;
  let bob: Vendor;
  let productId: string;
  const now = Date.now();

  const q = async <T>(query: ReturnType<typeof sql>) => rowsOf<T>(await app.runtime.database.db.execute(query));

  beforeAll(async () => {
    app = await startTestApp({ db });
    alice = await newVendor(app, 'alice');
    bob = await newVendor(app, 'bob');
    productId = (await productWithReleases(app, alice, { slug: 'stats', versions: ['1.0', '1.1'] })).id;

    // 60 sites over the last 45 days: versions, WordPress, PHP, locales and licence verdicts vary; some sites check
    // several times a day and change version in between; some checks carry no site at all.
    await seedCheckins(app, productId, { sites: 60, days: 45, now });
    const checkins = app.runtime.services.checkins;
    checkins.record({ productId, host: null, installedVersion: '1.1', wpVersion: null, phpVersion: null, locale: null, codeId: null, license: 'none', checkedAt: now - 2 * DAY });
    await checkins.flush();
    // And real update checks through HTTP: a valid code, no code, an unknown code.
    const [code] = await createCodes(app, alice, productId, {});
    await updateCheck(app, productId, { installed_version: '1.0', license: code!, domain: 'live-valid.example.org' }, { 'user-agent': 'WordPress/6.6; https://live-valid.example.org' });
    await updateCheck(app, productId, { installed_version: '1.1', domain: 'live-none.example.org' });
    await updateCheck(app, productId, { installed_version: '1.1', license: 'NOPE-NOPE', domain: 'live-unknown.example.org' });
    await checkins.flush();
    await app.runtime.database.db.execute(sql`insert into downloads (product_id, version, host, created_at)
      select ${productId}, '1.1', 'site1.example.com', now() - (g % 40) * interval '1 day' from generate_series(1, 70) g`);
  }, 180_000);
  afterAll(() => app?.stop());

  /** The same questions, asked of the raw rows. */
  async function expected(days: number) {
    const since = windowStart(days, now).toISOString();
    const lastPerSite = sql`(select distinct on (host) host, installed_version, wp_version, php_version, locale, license from checkins
      where product_id = ${productId} and host is not null and checked_at >= ${since}::timestamptz order by host, checked_at desc) s`;
    const count = async (col: string) =>
      (await q<{ v: string | null; n: number }>(sql`select ${sql.raw(col)} as v, count(*)::int as n from ${lastPerSite} group by 1 order by 2 desc, 1`)).map((r) => ({ v: r.v, n: Number(r.n) }));
    const active = async (d: number) => Number((await q<{ n: number }>(sql`select count(distinct host)::int as n from checkins where product_id = ${productId} and host is not null and checked_at >= ${windowStart(d, now).toISOString()}::timestamptz`))[0]!.n);
    const daily = await q<{ date: string; active_sites: number; checks: number }>(sql`select to_char((checked_at at time zone 'UTC')::date, 'YYYY-MM-DD') as date,
      count(distinct host)::int as active_sites, sum(checks)::int as checks from checkins where product_id = ${productId} and checked_at >= ${since}::timestamptz group by 1`);
    const downloads = await q<{ date: string; n: number }>(sql`select to_char((created_at at time zone 'UTC')::date, 'YYYY-MM-DD') as date, count(*)::int as n from downloads
      where product_id = ${productId} and created_at >= ${since}::timestamptz group by 1`);
    return { active7: await active(7), active30: await active(30), daily, downloads, versions: await count('installed_version'), wordpress: await count('wp_version'), php: await count('php_version'), locales: await count('locale'), licenses: await count('license') };
  }

  test.each([7, 30, 90])('GET /api/v1/products/:id/analytics?days=%i equals SQL over the raw rows', async (days) => {
    const res = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=${days}`);
    expect(res.status).toBe(200);
    const e = await expected(days);
    const j = res.json;
    expect(Object.keys(j)).toEqual(['days', 'active_installs', 'daily', 'versions', 'wordpress', 'php', 'locales', 'licenses']);
    expect(j.days).toBe(days);
    expect(j.active_installs).toEqual({ '7d': e.active7, '30d': e.active30 });
    expect(j.active_installs['30d']).toBeGreaterThan(10);
    expect(j.daily).toHaveLength(days);
    const raw = new Map(e.daily.map((d) => [d.date, d]));
    const dl = new Map(e.downloads.map((d) => [d.date, Number(d.n)]));
    for (const d of j.daily) {
      expect(d).toEqual({ date: d.date, active_sites: Number(raw.get(d.date)?.active_sites ?? 0), checks: Number(raw.get(d.date)?.checks ?? 0), downloads: dl.get(d.date) ?? 0 });
    }
    expect(j.daily.map((d: { date: string }) => d.date)).toEqual([...j.daily.map((d: { date: string }) => d.date)].sort());
    expect(j.daily.at(-1).date).toBe(new Date(now).toISOString().slice(0, 10));
    expect(j.daily.reduce((n: number, d: { downloads: number }) => n + d.downloads, 0)).toBe(e.downloads.reduce((n, d) => n + Number(d.n), 0));
    const asCounts = (xs: { sites: number }[], key: string) => xs.map((x) => ({ v: (x as Record<string, unknown>)[key] ?? null, n: x.sites }));
    const sorted = (xs: { v: unknown; n: number }[]) => [...xs].sort((a, b) => b.n - a.n || String(a.v ?? '').localeCompare(String(b.v ?? '')));
    expect(asCounts(j.versions, 'version')).toEqual(sorted(e.versions));
    expect(asCounts(j.wordpress, 'version')).toEqual(sorted(e.wordpress));
    expect(asCounts(j.php, 'version')).toEqual(sorted(e.php));
    expect(asCounts(j.locales, 'locale')).toEqual(sorted(e.locales));
    for (const list of [j.versions, j.wordpress, j.php, j.locales]) {
      const n = list.map((x: { sites: number }) => x.sites);
      expect(n).toEqual([...n].sort((a, b) => b - a));
    }
    const lic = Object.fromEntries(e.licenses.map((l) => [l.v, l.n]));
    const { valid = 0, none = 0, ...errors } = lic;
    expect(j.licenses).toEqual({ valid, none, errors });
  });

  test('the real update checks are classified: a valid code, no code, an unknown code', async () => {
    const sites = await q<{ host: string; license: string; wp_version: string | null }>(sql`select host, license, wp_version from product_sites where product_id = ${productId} and host like 'live-%' order by host`);
    expect(sites).toEqual([
      { host: 'live-none.example.org', license: 'none', wp_version: null },
      { host: 'live-unknown.example.org', license: 'unknown', wp_version: null },
      { host: 'live-valid.example.org', license: 'valid', wp_version: '6.6' },
    ]);
  });

  test("another vendor's product is a 404; days outside 1–365 is a 422", async () => {
    expect((await api(app.url, bob.key, 'GET', `/api/v1/products/${productId}/analytics`)).status).toBe(404);
    expect((await api(app.url, bob.key, 'DELETE', `/api/v1/products/${productId}/sites/site1.example.com`)).status).toBe(404);
    expect((await api(app.url, alice.key, 'GET', `/api/v1/products/00000000-0000-4000-8000-000000000000/analytics`)).status).toBe(404);
    for (const days of ['0', '366', '-1', 'abc', '1.5', '30x']) {
      const res = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=${days}`);
      expect({ days, status: res.status }).toEqual({ days, status: 422 });
      expect(res.json.error.code).toBe('validation_failed');
    }
    const dflt = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics`);
    expect([dflt.json.days, dflt.json.daily.length]).toEqual([30, 30]);
    // Bob's own empty product answers zeros, not Alice's numbers.
    const own = (await productWithReleases(app, bob, { slug: 'bobs', versions: [] })).id;
    const empty = await api(app.url, bob.key, 'GET', `/api/v1/products/${own}/analytics?days=7`);
    expect(empty.json).toMatchObject({ active_installs: { '7d': 0, '30d': 0 }, versions: [], wordpress: [], php: [], locales: [], licenses: { valid: 0, none: 0, errors: {} } });
    expect(empty.json.daily.every((d: { active_sites: number; checks: number }) => d.active_sites === 0 && d.checks === 0)).toBe(true);
  });

  test('analytics:rebuild recomputes the same rollups from the raw rows (erasure aside, they equal what the flushes kept)', async () => {
    const snapshot = () => q(sql`select day::text, dimension, value, sites, checks::int from analytics_daily where product_id = ${productId} and day >= (select min(checked_at)::date from checkins) order by 1, 2, 3`);
    const lastSeen = () => q(sql`select day::text, dimension, value, sites from analytics_last_seen_daily where product_id = ${productId} and sites <> 0 order by 1, 2, 3`);
    const before = await snapshot();
    const beforeLastSeen = await lastSeen();
    await app.runtime.services.analytics.rebuild();
    expect(await snapshot()).toEqual(before);
    expect(await lastSeen()).toEqual(beforeLastSeen);
  });

  test('two app servers flushing the same sites at once keep every count exact', async () => {
    const servers = [0, 1].map(() => new CheckinRecorder(app.runtime.database.db, 60_000, app.runtime.logger));
    const before = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=7`);
    for (let round = 0; round < 4; round++) {
      servers.forEach((server, i) => {
        for (let site = 0; site < 30; site++) {
          server.record({ productId, host: `busy${site}.example.net`, installedVersion: `2.${(round + i + site) % 3}`, wpVersion: '6.7', phpVersion: '8.3', locale: 'en_US', codeId: null, license: 'valid', checkedAt: now - 3000 + round * 100 + i * 10 + site });
        }
      });
      await Promise.all(servers.map((server) => server.flush()));
    }
    const e = await expected(7);
    const j = (await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=7`)).json;
    expect(j.active_installs['7d']).toBe(before.json.active_installs['7d'] + 30);
    expect(j.active_installs['7d']).toBe(e.active7);
    expect(j.versions.map((v: any) => ({ v: v.version, n: v.sites }))).toEqual([...e.versions].sort((a, b) => b.n - a.n || String(a.v ?? '').localeCompare(String(b.v ?? ''))));
    const today = j.daily.at(-1);
    expect(today.active_sites).toBe(Number(e.daily.find((d) => d.date === today.date)!.active_sites));
    for (const host of Array.from({ length: 30 }, (_, i) => `busy${i}.example.net`)) await api(app.url, alice.key, 'DELETE', `/api/v1/products/${productId}/sites/${host}`);
  });

  test('the plugin JSON carries active_installs (7-day active sites), read with the cached snapshot, not per check', async () => {
    const api7 = (await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=7`)).json.active_installs['7d'];
    // A product write (or the snapshot's freshness running out) reloads the snapshot, and the count with it.
    app.runtime.services.catalog.invalidateProduct(productId);
    const first = await updateCheck(app, productId, { installed_version: '1.0' });
    expect(first.json.active_installs).toBe(api7);
    expect(api7).toBeGreaterThan(0);
    // Further checks are answered from the cached snapshot: a new site does not move the number until it reloads.
    app.runtime.services.checkins.record({ productId, host: 'brand-new.example.net', installedVersion: '1.1', wpVersion: null, phpVersion: null, locale: null, codeId: null, license: 'none', checkedAt: Date.now() });
    await app.runtime.services.checkins.flush();
    expect((await updateCheck(app, productId, { installed_version: '1.0' })).json.active_installs).toBe(api7);
    app.runtime.services.catalog.invalidateProduct(productId);
    expect((await updateCheck(app, productId, { installed_version: '1.0' })).json.active_installs).toBe(api7 + 1);
    await api(app.url, alice.key, 'DELETE', `/api/v1/products/${productId}/sites/brand-new.example.net`);
    await app.runtime.services.checkins.flush(); // these checks now, not during the next test
  });

  test('erasing a site removes its raw check-ins and last-seen row; daily counts stay', async () => {
    const host = 'site3.example.com';
    const before = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=90`);
    const raw = async () => Number((await q<{ n: number }>(sql`select count(*)::int as n from checkins where product_id = ${productId} and host = ${host}`))[0]!.n);
    expect(await raw()).toBeGreaterThan(0);
    const del = await api(app.url, alice.key, 'DELETE', `/api/v1/products/${productId}/sites/${encodeURIComponent('WWW.Site3.Example.com')}`);
    expect(del.status).toBe(204);
    expect(await raw()).toBe(0);
    expect(await q(sql`select 1 from product_sites where product_id = ${productId} and host = ${host}`)).toEqual([]);
    expect(await q(sql`select 1 from analytics_site_days where product_id = ${productId} and host = ${host}`)).toEqual([]);
    const after = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=90`);
    const total = (j: { versions: { sites: number }[] }) => j.versions.reduce((n, v) => n + v.sites, 0);
    expect(total(after.json)).toBe(total(before.json) - 1);
    expect(after.json.daily).toEqual(before.json.daily);
    expect((await api(app.url, alice.key, 'DELETE', `/api/v1/products/${productId}/sites/${encodeURIComponent('not a host/')}`)).status).toBe(422);
  });

  test('check-ins land in monthly partitions; retention drops whole old partitions and keeps rollups and last-seen rows', async () => {
    const checkins = app.runtime.services.checkins;
    const old = now - 200 * DAY;
    checkins.record({ productId, host: 'ancient.example.com', installedVersion: '0.9', wpVersion: '5.9', phpVersion: '7.4', locale: 'en_US', codeId: null, license: 'valid', checkedAt: old });
    await checkins.flush();
    // It arrived before its month had a partition: kept in the default one until maintenance moves it.
    const oldMonth = `checkins_p${new Date(old).toISOString().slice(0, 7).replace('-', '')}`;
    const partitions = async () => (await q<{ name: string }>(sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent where p.relname = 'checkins' order by 1`)).map((r) => r.name);
    const maintain = (retentionDays: number) => maintainCheckins(app.runtime.database.db, retentionDays, app.runtime.logger, now);
    const kept = await maintain(365);
    expect(kept!.created).toContain(oldMonth);
    expect(await partitions()).toContain(oldMonth);
    expect(await q(sql`select 1 from checkins_default`)).toEqual([]);
    expect(await q(sql`select host from ${sql.raw(`"${oldMonth}"`)}`)).toEqual([{ host: 'ancient.example.com' }]);
    const day = new Date(old).toISOString().slice(0, 10);
    const rollup = async () => q<{ sites: number }>(sql`select sites from analytics_daily where product_id = ${productId} and day = ${day}::date and dimension = 'all'`);
    expect((await rollup()).map((r) => Number(r.sites))).toEqual([1]);

    const before = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=365`);
    const result = await maintain(90);
    expect(result!.dropped).toContain(oldMonth);
    expect(await partitions()).not.toContain(oldMonth);
    expect(await q(sql`select 1 from checkins where host = 'ancient.example.com'`)).toEqual([]);
    // Rollups are kept for ever, and so is the site's last-seen row.
    expect((await rollup()).map((r) => Number(r.sites))).toEqual([1]);
    const after = await api(app.url, alice.key, 'GET', `/api/v1/products/${productId}/analytics?days=365`);
    expect(after.json).toEqual(before.json);
    // Recent partitions are untouched, and next months' exist ahead.
    const thisMonth = `checkins_p${new Date(now).toISOString().slice(0, 7).replace('-', '')}`;
    expect(await partitions()).toContain(thisMonth);
    expect((await partitions()).filter((p) => p > thisMonth && p !== 'checkins_default').length).toBeGreaterThanOrEqual(2);
  });

});
