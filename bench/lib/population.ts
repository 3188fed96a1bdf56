/**
 * Many codes and sites for the download and mixed scenarios, written straight into the throwaway
 * database (the API would take minutes for 100,000 codes), and requests drawn from them.
 */
import crypto from 'node:crypto';
import type postgres from 'postgres';
import { DownloadTokens, tokenExpiry } from '../../src/services/licensing/download-token.codec';
import { SLUG } from './seed';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford's base32, as purchase codes are

function newCode(): string {
  const bytes = crypto.randomBytes(32);
  let out = '';
  for (let i = 0; i < 32; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

export interface SeededCode {
  id: string;
  code: string;
  productId: string;
}

/**
 * `count` codes for `productIds` (round robin): a third limited to 3 sites, every code with a
 * download limit of 1,000,000 (so each download is counted against one), and with `expired` a
 * tenth that expired in 2025. `boundSites(i)` lists the hosts already bound to code i (sites
 * that activated long ago).
 */
export async function insertCodes(sql: postgres.Sql, productIds: string[], count: number, boundSites: (i: number) => string[], expired = false): Promise<SeededCode[]> {
  const out: SeededCode[] = [];
  const CHUNK = 5000;
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const codes = Array.from({ length: n }, newCode);
    const products = codes.map((_, k) => productIds[(start + k) % productIds.length]!);
    const maxSites = codes.map((_, k) => ((start + k) % 3 === 0 ? 3 : null));
    const expires = codes.map((_, k) => (expired && (start + k) % 10 === 9 ? '2025-03-31' : null));
    const rows = await sql<{ id: string; code: string; product_id: string }[]>`
      insert into purchase_codes (product_id, code, max_sites, expires_on, max_downloads)
      select p, c, m, e::date, 1000000 from unnest(${products}::uuid[], ${codes}::text[], ${maxSites}::int[], ${expires}::text[]) as t(p, c, m, e)
      returning id, code, product_id`;
    const byCode = new Map(rows.map((r) => [r.code, r]));
    const siteCodes: string[] = [];
    const siteHosts: string[] = [];
    codes.forEach((code, k) => {
      const row = byCode.get(code)!;
      out.push({ id: row.id, code, productId: row.product_id });
      for (const host of boundSites(start + k)) {
        siteCodes.push(row.id);
        siteHosts.push(host);
      }
    });
    if (siteCodes.length) {
      await sql`insert into code_sites (code_id, host, counts_toward_limit)
        select c, h, true from unnest(${siteCodes}::uuid[], ${siteHosts}::text[]) as t(c, h) on conflict do nothing`;
    }
  }
  return out;
}

/** The latest version of each product (what a download token names). */
export async function liveVersions(sql: postgres.Sql, productIds: string[]): Promise<Map<string, string>> {
  const rows = await sql<{ product_id: string; live_version_id: string }[]>`select id as product_id, live_version_id from products where id = any(${productIds}::uuid[])`;
  return new Map(rows.map((r) => [r.product_id, r.live_version_id]));
}

/** Download URLs signed as the update check would sign them (the bench knows SECRET_KEY). */
export function downloadPaths(secretKey: string, codes: SeededCode[], versions: Map<string, string>, hostOf: (i: number) => string): string[] {
  const tokens = new DownloadTokens(secretKey);
  const exp = tokenExpiry(Date.now());
  return codes.map((c, i) => `/api/v1/download/${tokens.sign({ productId: c.productId, versionId: versions.get(c.productId)!, codeId: c.id, host: hostOf(i), exp })}/${SLUG}.zip`);
}

/** Ranks 0…n-1 drawn with probability ∝ 1/(rank+1)^s (Zipf), from a precomputed CDF. */
export function zipf(n: number, s: number, random: () => number = Math.random): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  for (let k = 0; k < n; k++) cdf[k]! /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A seeded generator, so every run draws the same requests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DrawnRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Update checks as a day of traffic brings them: `sites` sites, the site of rank r using code
 * r mod codes.length, sites drawn with Zipf(1) popularity (or every rank in order: a warm-up).
 * Each check is the PHP client's form POST.
 */
export function mixedChecks(codes: SeededCode[], sites: number, draws: number, host: (rank: number) => string, inOrder = false): DrawnRequest[] {
  const draw = zipf(sites, 1, seededRandom(42));
  const installed = ['1.0.0', '1.1.0', '1.2.0'];
  return Array.from({ length: draws }, (_, i) => {
    const rank = inOrder ? i : draw();
    const code = codes[rank % codes.length]!;
    const site = `https://${host(rank)}`;
    const body = new URLSearchParams({ installed_version: installed[rank % 3]!, php: rank % 2 ? '8.2.12' : '8.1.27', locale: rank % 5 ? 'en_US' : 'de_DE', checking_for_updates: '1', domain: site, license: code.code }).toString();
    return {
      path: `/api/v1/updates/${code.productId}`,
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': `WordPress/6.5.${rank % 4}; ${site}`, accept: 'application/json' },
    };
  });
}
