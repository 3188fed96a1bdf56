import { MemcachedCache } from '../../../src/adapters/cache/memcached.cache';
import { sha256Hex } from '../../../src/lib/crypto';
import { createLogger } from '../../../src/logger';
import { startTestApp, type TestApp } from '../../support/app';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { startMemcached, type MemcachedProcess } from '../../support/memcached';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';

/**
 * Update checks never wait on a dying database while an answer is in hand: two app servers on a
 * real PostgreSQL (behind a relay the test can freeze, so the server accepts but never answers)
 * and a real memcached. The database deadline is 3 s: a check that waited on it takes at least that.
 */

const UA = { 'user-agent': 'WordPress/6.5; https://shop.example.com' };
const DEADLINE_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timedCheck(app: TestApp, productId: string, license: string) {
  const started = performance.now();
  const res = await updateCheck(app, productId, { license, installed_version: '1.0' }, UA);
  return { ...res, ms: performance.now() - started };
}

let memcached: MemcachedProcess;
let db: TestDatabase;
let proxy: TcpProxy;
let a: TestApp;
let b: TestApp;
let vendor: Vendor;
let product: { id: string };

beforeAll(async () => {
  memcached = await startMemcached();
  db = await createTestDatabase();
  proxy = await startTcpProxy(Number(new URL(db.url).port || 5432));
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const env = {
    DATABASE_URL: url.toString(),
    MEMCACHED_SERVERS: `127.0.0.1:${memcached.port}`,
    CACHE_L1_TTL_MS: '300',
    CACHE_SHARED_FRESH_SECONDS: '1',
    DATABASE_QUERY_TIMEOUT_MS: String(DEADLINE_MS),
  };
  a = await startTestApp({ env });
  b = await startTestApp({ env }); // migrated, but has answered nothing yet: nothing in process
  vendor = await newVendor(a);
  product = await productWithReleases(a, vendor, { slug: 'swr-probe', versions: ['1.0', '1.1'] });
}, 120_000);

afterAll(async () => {
  proxy?.thaw();
  await a?.stop();
  await b?.stop();
  await proxy?.close();
  await db?.drop();
  await memcached?.stop();
});

test('past the fresh windows, a frozen database: answers come at once from the last known value; only the unknown waits', async () => {
  const [code, unseen] = await createCodes(a, vendor, product.id, { count: 2 });
  const warm = await timedCheck(a, product.id, code!);
  expect([warm.status, warm.json.version, typeof warm.json.download_url]).toEqual([200, '1.1', 'string']);
  await sleep(1500); // past the in-process (0.3 s) and memcached (1 s) fresh windows
  proxy.freeze();
  try {
    for (let i = 0; i < 10; i++) {
      const r = await timedCheck(a, product.id, code!);
      expect({ status: r.status, version: r.json.version, url: r.json.download_url }).toEqual({ status: 200, version: '1.1', url: warm.json.download_url });
      expect(r.ms).toBeLessThan(DEADLINE_MS / 3);
      await sleep(100);
    }
    // Server B never answered this product or code: memcached's stale copy answers, at once.
    const fromShared = await timedCheck(b, product.id, code!);
    const path = (u: string) => new URL(u).pathname; // each server names its own public URL
    expect([fromShared.status, fromShared.json.version, path(fromShared.json.download_url)]).toEqual([200, '1.1', path(warm.json.download_url)]);
    expect(fromShared.ms).toBeLessThan(DEADLINE_MS / 3);
    // The control: a code nobody has seen must be read from the database, which does not answer.
    const unknown = await timedCheck(a, product.id, unseen!);
    expect([unknown.status, unknown.json.error.code]).toEqual([500, 'database_unavailable']);
    expect(unknown.headers.get('retry-after')).toBe('5');
    expect(unknown.ms).toBeGreaterThan(DEADLINE_MS / 3); // it waited on the database (until the deadline, or until the stuck pool was replaced)
  } finally {
    proxy.thaw();
  }
  // Once the database answers again, so does the unknown code: at the latest when the stuck pool's replacement connects.
  let after = await timedCheck(b, product.id, unseen!);
  for (const until = Date.now() + 20_000; after.status !== 200 && Date.now() < until; ) {
    await sleep(250);
    after = await timedCheck(b, product.id, unseen!);
  }
  expect([after.status, after.json.version]).toEqual([200, '1.1']);
}, 60_000);

test('a write reaches the other server through the revision marker, even when a racing reader put the old value back', async () => {
  const [code] = await createCodes(a, vendor, product.id);
  const canonical = code!.replace(/-/g, '');
  expect((await updateCheck(b, product.id, { license: code! }, UA)).json.download_url).toBeDefined();
  const shared = new MemcachedCache({ servers: [`127.0.0.1:${memcached.port}`], timeoutMs: 500 }, createLogger('silent'));
  try {
    const key = `c:${sha256Hex(canonical)}`;
    const before = (await shared.get(key))!.toString('utf8');
    const revoke = await fetchJson(`${a.url}/api/v1/purchase-codes/${code}`, { method: 'PATCH', headers: { authorization: `Bearer ${vendor.key}`, 'content-type': 'application/json' }, body: '{"revoked":true}' });
    expect(revoke.status).toBe(200);
    // A reader that loaded the row just before the commit writes its (fresh-looking) copy afterwards.
    const stale = JSON.parse(before) as { f: number };
    stale.f = Date.now() + 60_000;
    await shared.set(key, JSON.stringify(stale), 3600);
    // The writer's server answers from the database at once; the other within its in-process TTL.
    expect((await updateCheck(a, product.id, { license: code! }, UA)).json.license_error?.code).toBe('revoked');
    let seen = '';
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && seen !== 'revoked') {
      seen = (await updateCheck(b, product.id, { license: code! }, UA)).json.license_error?.code ?? 'allowed';
      await sleep(100);
    }
    expect(seen).toBe('revoked');
    expect(Number((await shared.get(`${key}:r`))!.toString())).toBeGreaterThan((JSON.parse(before) as { r: number }).r);
  } finally {
    await shared.close();
  }
}, 30_000);
