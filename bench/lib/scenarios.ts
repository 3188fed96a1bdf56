/** The scenarios built on many codes: downloads of 10,000 codes, and the Zipf mix of update checks. */
import path from 'node:path';
import type postgres from 'postgres';
import { load, type Target } from './load';
import { downloadPaths, insertCodes, liveVersions, mixedChecks } from './population';
import type { AppProcess } from './procs';
import { createProduct, pluginFiles, releaseFiles, type Seeded } from './seed';

const DISTINCT_CODES = 10_000;
const MIX_CODES = 100_000;
const MIX_SITES = 200_000;
/** Checks drawn; the runs cycle through them, and the warm-up checks every code they ask for. */
const MIX_DRAWS = 250_000;
/** In-process entries per kind for the app the mix runs on: the default, half the codes. */
export const MIX_L1_ENTRIES = 50_000;

const n = (x: number) => x.toLocaleString('en-US');

/** download_distinct: each request the next of 10,000 codes' download links (each code's site bound beforehand). */
export async function distinctDownloads(sql: postgres.Sql, secretKey: string, app: AppProcess, productId: string): Promise<Target> {
  const codes = await insertCodes(sql, [productId], DISTINCT_CODES, (i) => [`dl${i}.example.net`]);
  const paths = downloadPaths(secretKey, codes, await liveVersions(sql, [productId]), (i) => `dl${i}.example.net`);
  let next = 0;
  return {
    key: 'download_distinct',
    label: `download redirect, ${n(DISTINCT_CODES)} codes, another each request`,
    url: app.url,
    method: 'GET',
    pid: app.pid,
    headers: { 'user-agent': 'WordPress/6.5.2; https://shop.example.com' },
    next: () => ({ path: paths[next++ % paths.length]! }),
  };
}

/** Three more plugins with two releases each, so the mixed checks spread over several products. */
async function mixProducts(base: string, key: string, tmp: string): Promise<string[]> {
  const ids: string[] = [];
  for (const i of [1, 2, 3]) {
    const slug = `acme-mix-${i}`;
    const id = await createProduct(base, key, slug);
    for (const v of ['1.0.0', '1.2.0']) await releaseFiles(base, key, id, pluginFiles(v, slug), path.join(tmp, `${slug}-${v}.zip`));
    ids.push(id);
  }
  return ids;
}

/** mixed: 100,000 codes, 200,000 sites, Zipf draws; each code the runs will ask for checked once first (memcached warm). */
export async function mixedChecksTarget(sql: postgres.Sql, app: AppProcess, seeded: Seeded, tmp: string, connections: number, out: (line: string) => void): Promise<Target> {
  const products = [seeded.productId, ...(await mixProducts(app.url, seeded.key, tmp))];
  const host = (rank: number) => `site${rank}.example.org`;
  const codes = await insertCodes(sql, products, MIX_CODES, (i) => [host(i), host(i + MIX_CODES)], true);
  const checks = mixedChecks(codes, MIX_SITES, MIX_DRAWS, host);
  out(`mixed: ${n(MIX_CODES)} codes over ${products.length} products, ${n(MIX_SITES)} sites, ${n(MIX_DRAWS)} checks drawn (Zipf), in-process cache bounded to ${n(MIX_L1_ENTRIES)} entries per kind`);
  // Every draw a run can reach: warming the first 60,000 only left the second and third rounds on codes memcached had never seen (0.42 → 0.17 → 0.20).
  const warm = [...new Map(checks.map((c) => [new URLSearchParams(c.body).get('license'), c])).values()];
  let w = 0;
  const started = Date.now();
  await load({ key: 'warm', label: 'warm-up', url: app.url, method: 'POST', headers: {}, next: () => warm[w++]! }, 600, connections, warm.length);
  out(`mixed: warmed with one check of each of the ${n(warm.length)} codes the ${n(MIX_DRAWS)} draws ask for, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  let next = 0;
  return { key: 'mixed', label: `update checks, Zipf mix of ${n(MIX_CODES)} codes and ${n(MIX_SITES)} sites`, url: app.url, method: 'POST', pid: app.pid, headers: {}, next: () => checks[next++ % checks.length]! };
}
