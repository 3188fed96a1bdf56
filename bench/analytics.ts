/**
 * npm run bench:analytics — the analytics page and API at scale, on the real PostgreSQL server.
 *
 * Seeds one product with BENCH_CHECKINS (10,000,000) check-ins from BENCH_SITES (200,000) sites over the last
 * BENCH_DAYS (90) days straight into the partitioned checkins table (generate_series, one statement per month
 * partition), builds the rollups and last-seen rows with the same code as `wharf analytics:rebuild`, then
 * times BENCH_REQUESTS (40) requests each of the API and the dashboard page for 30 and 90 days, one at a time
 * on loopback, and prints p50/p95/max per case and a JSON line: targets_met when every p95 < 300 ms.
 * The database is dropped at the end (BENCH_KEEP=1 keeps it and prints its URL).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequestHandler } from '../src/app';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import { checkinPartitions, createMonthPartition, monthStart, rebuildAnalytics } from '../src/db/queries/analytics.queries';
import { createLogger } from '../src/logger';
import { openRuntime } from '../src/runtime';
import { MEMBERSHIP_DAYS } from '../src/services/analytics/analytics.service';
import { createDatabase } from './lib/services';

const env = process.env;
const CHECKINS = Number(env.BENCH_CHECKINS ?? 10_000_000);
const SITES = Number(env.BENCH_SITES ?? 200_000);
const DAYS = Number(env.BENCH_DAYS ?? 90);
const REQUESTS = Number(env.BENCH_REQUESTS ?? 40);
const TARGET_MS = 300;

const out = (line: string) => process.stdout.write(`${line}\n`);
const since = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

/** A cookie-keeping client for the dashboard (sign-in needs the CSRF token of the page). */
class Browser {
  private cookies = new Map<string, string>();
  csrf = '';
  constructor(private readonly base: string) {}
  async request(method: string, p: string, form?: Record<string, string>) {
    const res = await fetch(new URL(p, this.base), {
      method,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams({ _csrf: this.csrf, ...form }) } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    const text = await res.text();
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(text);
    if (m?.[1]) this.csrf = m[1];
    return { status: res.status, text };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const db = await createDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-analytics-'));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    EMBEDDED_S3_PORT: '0',
    LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
    SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789',
    RATE_LIMIT_UPDATES_PER_MINUTE: '0',
  });
  const runtime = await openRuntime(config, createLogger(config.logLevel));
  server.on('request', createRequestHandler(runtime));
  const results: Record<string, { p50: number; p95: number; max: number }> = {};
  try {
    const s = runtime.services;
    const email = `bench-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';
    const user = await s.users.signUp(email, password);
    const { key } = await s.users.createApiKey(user.id, 'bench');
    const product = await s.products.create(user.id, { type: 'plugin', slug: 'bench-analytics', name: 'Bench Analytics' });
    out(`seeding ${CHECKINS.toLocaleString('en')} check-ins from ${SITES.toLocaleString('en')} sites over ${DAYS} days into ${db.name}…`);

    let t = performance.now();
    const now = Date.now();
    const start = now - DAYS * 86_400_000;
    const have = new Set((await checkinPartitions(runtime.database.db)).map((p) => p.from.getTime()));
    for (let m = monthStart(new Date(start)); m.getTime() <= now; m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) {
      if (!have.has(m.getTime())) await createMonthPartition(runtime.database.db, m);
    }
    await db.sql.unsafe('set maintenance_work_mem = \'256MB\'');
    // Each site keeps its WordPress, PHP, locale and licence; its version moves up with time (a release every ~30
    // days, sites adopting it over the following days), so adoption curves look real.
    const chunk = 1_000_000;
    for (let from = 0; from < CHECKINS; from += chunk) {
      const to = Math.min(CHECKINS, from + chunk) - 1;
      await db.sql.unsafe(
        `insert into checkins (product_id, host, installed_version, wp_version, php_version, locale, code_id, checked_at, checks, license)
         select $1::uuid, 'site' || site || '.example.com',
           '1.' || greatest(0, floor((extract(epoch from at) - $2::float8) / 2592000 - (site % 10) / 10.0))::int,
           (array['6.4','6.5','6.6','6.7'])[1 + site % 4], (array['7.4','8.1','8.2','8.3',null])[1 + site % 5],
           (array['en_US','de_DE','fr_FR','es_ES','ja','pt_BR','it_IT'])[1 + site % 7], null, at, 1 + (g % 2),
           (array['valid','valid','valid','none','expired','valid','revoked'])[1 + site % 7]
         from (select g, (g * 7919) % ${SITES} as site, to_timestamp($2::float8 + ((g * 104729) % ${CHECKINS})::float8 / ${CHECKINS} * ($3::float8 - $2::float8)) as at
               from generate_series(${from}::bigint, ${to}::bigint) g) x`,
        [product.id, start / 1000, now / 1000],
      );
      out(`  ${(to + 1).toLocaleString('en')} rows (${since(t)})`);
    }
    await db.sql.unsafe('analyze checkins');
    out(`seeded in ${since(t)}`);
    t = performance.now();
    // As `wharf analytics:rebuild` does: its own connection, without the web path's statement deadline.
    const long = await openDatabase({ ...config.database, queryTimeoutMs: 3_600_000 }, createLogger('warn'));
    const rebuilt = await rebuildAnalytics(long.db, MEMBERSHIP_DAYS).finally(() => long.close());
    await db.sql.unsafe('analyze product_sites; analyze analytics_daily');
    out(`analytics:rebuild: ${rebuilt.sites.toLocaleString('en')} sites, ${rebuilt.days} days of rollups in ${since(t)}`);

    const browser = new Browser(url);
    await browser.request('GET', '/login');
    const signIn = await browser.request('POST', '/login', { email, password });
    if (signIn.status !== 302) throw new Error(`sign-in failed: ${signIn.status}`);

    const cases: [string, () => Promise<number>][] = [];
    for (const days of [30, 90]) {
      cases.push([`api_${days}d`, async () => (await fetch(`${url}/api/v1/products/${product.id}/analytics?days=${days}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.text().then(() => r.status)))]);
      cases.push([`page_${days}d`, async () => (await browser.request('GET', `/products/${product.id}/analytics?days=${days}`)).status]);
    }
    for (const [name, run] of cases) {
      const status = await run(); // warm: plans, caches
      if (status !== 200) throw new Error(`${name}: ${status}`);
      const times: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const t0 = performance.now();
        await run();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      results[name] = { p50: Math.round(percentile(times, 50)), p95: Math.round(percentile(times, 95)), max: Math.round(times.at(-1)!) };
      out(`${name.padEnd(10)} p50 ${String(results[name]!.p50).padStart(5)} ms   p95 ${String(results[name]!.p95).padStart(5)} ms   max ${String(results[name]!.max).padStart(5)} ms`);
    }
    const summary = Object.fromEntries(Object.entries(results).map(([k, v]) => [`${k}_p95_ms`, v.p95]));
    out(JSON.stringify({ checkins: CHECKINS, sites: SITES, days: DAYS, ...summary, target_p95_ms: TARGET_MS, targets_met: Object.values(results).every((r) => r.p95 < TARGET_MS) }));
  } finally {
    server.closeAllConnections();
    server.close();
    await runtime.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (env.BENCH_KEEP === '1') out(`kept ${db.url}`);
    else await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:analytics failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
