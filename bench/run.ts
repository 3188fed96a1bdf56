/**
 * `npm run bench`: Wharf's update check, download redirect and release finalize, measured on this
 * machine against a bare node:http ceiling. Starts everything it needs on loopback and stops it.
 * See bench/README.md. Knobs (environment):
 *   BENCH_SECONDS (5), BENCH_CONNECTIONS (50), BENCH_REPEAT (3: rounds of the whole alternation;
 *   figures are then medians), BENCH_ONLY (comma list of scenario keys), BENCH_UPLOAD (0 skips the
 *   finalize measurements), BENCH_PROFILE (a directory: the cached app runs under --cpu-prof and the
 *   measured run is summarised), BENCH_LOG_LEVEL (warn), BENCH_SERVER (the build to measure; this
 *   tree's dist/src/server.js by default), BENCH_COMPARE_SERVER (other builds, comma-separated, each
 *   measured right after this one on the same scenarios: before/after under the same conditions).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { aggregate, loadTable, summary, uploadTable, withRatios, type LoadResult, type UploadMeasure } from './lib/format';
import { load, type Target } from './lib/load';
import { ask, forkHelper, memoryOf, pinToCpu, resetPeak, sleep, startApp, stopChild, tailFile, track, type AppProcess } from './lib/procs';
import { api, BACKDATED, createProduct, finalize, pluginFiles, postFileToS3, presign, releaseFiles, seed, type Seeded } from './lib/seed';
import { distinctDownloads, MIX_L1_ENTRIES, mixedChecksTarget } from './lib/scenarios';
import { createDatabase, startMemcached, type Memcached, type ThrowawayDatabase } from './lib/services';
import { writeBigZip } from './lib/zip';
import { summarise } from './profile-summary';
import { rolloutBucket } from '../src/services/updates/rollout.decision';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER_JS = process.env.BENCH_SERVER ? path.resolve(process.env.BENCH_SERVER) : path.join(ROOT, 'dist', 'src', 'server.js');
const HELPERS = __dirname;
const BUCKET = 'wharf-bench';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const UPLOAD = env.BENCH_UPLOAD !== '0';
const PROFILE_DIR = env.BENCH_PROFILE ? path.resolve(env.BENCH_PROFILE) : null;
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const COMPARE_SERVERS = (env.BENCH_COMPARE_SERVER ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => path.resolve(s));
const REPEAT = Math.max(1, Number(env.BENCH_REPEAT ?? 3));
// autocannon (this process) on CPU 0, each measured server on CPU 1; other services float.
const PIN = env.BENCH_PIN !== '0' && os.cpus().length >= 2;
const pinServer = (pid: number) => PIN && pinToCpu(pid, 1);
const BIG_ZIP_BYTES = 200 * 1024 * 1024;
const SECRET_KEY = 'bench-secret-key-that-is-long-enough-0123456789abcdef';
const SMALL_ZIP_BYTES = 1024 * 1024;

const out = (line = '') => process.stdout.write(`${line}\n`);
const cleanups: (() => Promise<unknown>)[] = [];
const apps: AppProcess[] = [];

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    load_avg_at_start: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** What the PHP client sends (plugin_update_check.php: a form POST), for the given code. */
function updateCheck(key: string, label: string, app: AppProcess, productId: string, fields: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Target {
  const form = new URLSearchParams({ installed_version: '1.1.0', php: '8.2.12', locale: 'en_US', checking_for_updates: '1', domain: 'https://shop.example.com', wp: '6.5.2', ...fields }).toString();
  const headers = { 'user-agent': 'WordPress/6.5.2; https://shop.example.com', accept: 'application/json', 'x-wharf-client': '1.0.0' };
  const url = `${app.url}/api/v1/updates/${productId}`;
  return method === 'POST'
    ? { key, label, url, method, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form, pid: app.pid }
    : { key, label, url: `${url}?${form}`, method, headers, pid: app.pid };
}

async function once(t: Target) {
  if (t.next) {
    const r = t.next();
    const res = await fetch(`${t.url}${r.path}`, { method: t.method, headers: { ...t.headers, ...r.headers }, redirect: 'manual', ...(r.body !== undefined ? { body: r.body } : {}) });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }
  const res = await fetch(t.url, { method: t.method, headers: t.headers, redirect: 'manual', ...(t.body !== undefined ? { body: t.body } : {}) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body };
}

/** Each scenario is checked once before it is measured: a fast wrong answer must not pass. */
async function verify(t: Target, expect: (status: number, json: any, headers: Headers) => string | null): Promise<void> {
  const r = await once(t);
  let json: any = null;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = null;
  }
  const problem = expect(r.status, json, r.headers);
  if (problem) throw new Error(`${t.label}: ${problem} (HTTP ${r.status}: ${r.body.slice(0, 300)})`);
}

const validAnswer = (version: string) => (status: number, j: any) =>
  status !== 200 ? 'expected 200' : j?.version !== version ? `expected version ${version}` : !j.download_url ? 'no download_url' : j.license_error ? `license_error ${j.license_error.code}` : null;

async function startS3(tmp: string) {
  const { child, ready } = await forkHelper<{ s3Port: number; proxyPort: number; uploadProxyPort: number }>(path.join(HELPERS, 's3-host.js'), [path.join(tmp, 's3'), BUCKET]);
  cleanups.push(() => stopChild(child, 3000));
  return { child, ...ready };
}

async function startCeiling(answer: { status: number; headers: Record<string, string>; body: string }): Promise<{ child: ChildProcess; url: string }> {
  const { fork } = await import('node:child_process');
  const child = track(fork(path.join(HELPERS, 'ceiling-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] }));
  cleanups.push(() => stopChild(child, 2000));
  const { port } = await ask<{ port: number }>(child, answer);
  if (child.pid) pinServer(child.pid);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Backdates two releases so the expired code is entitled to 1.0.0 only (the API cannot set release dates). */
async function backdate(db: ThrowawayDatabase, productId: string): Promise<void> {
  for (const [version, at] of Object.entries(BACKDATED)) {
    const rows = await db.sql`update versions set released_at = ${at} where product_id = ${productId} and version = ${version} returning id`;
    if (rows.length !== 1) throw new Error(`could not backdate ${version}`);
  }
}

/**
 * A staged rollout active on the live release (issue 18), so every check hashes its site to decide;
 * the percentage is chosen so the benchmark's site (shop.example.com) is inside it and still gets 1.2.0.
 */
async function startRollout(base: string, seeded: Seeded): Promise<void> {
  const percent = Math.max(50, Math.floor(rolloutBucket(seeded.productId, 'shop.example.com') / 100) + 1);
  if (percent >= 100) {
    out('rollout: the benchmark site falls in the last 1%; no rollout this run');
    return;
  }
  const res = await api(base, seeded.key, 'PATCH', `/api/v1/products/${seeded.productId}/versions/1.2.0`, { rollout_percent: percent });
  if (res.status !== 200) throw new Error(`rollout: ${res.status}`);
  out(`rollout: 1.2.0 at ${percent}% (the benchmark site is inside it)`);
}

interface Exchange {
  method: string;
  range: string | null;
  bytes: number;
  done: boolean;
}

const bytesOf = (xs: Exchange[]) => xs.reduce((n, x) => n + x.bytes, 0);

/** Polls the vendor API until the version's checksum is recorded (it may be computed after the answer). */
async function waitForChecksum(app: AppProcess, key: string, productId: string, versionId: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await api(app.url, key, 'GET', `/api/v1/products/${productId}/versions`);
    const v = (res.json?.versions ?? []).find((x: { id: string }) => x.id === versionId);
    if (v?.sha256) return;
    await sleep(50);
  }
  throw new Error(`version ${versionId}: no checksum after ${timeoutMs} ms`);
}

/**
 * presign → POST to S3 (straight to s3rver, not through the app) → finalize through the app, with
 * the S3 proxy's log and the app's memory read around it; then until the checksum is recorded.
 */
async function measureFinalize(app: AppProcess, s3: ChildProcess, key: string, productId: string, label: string, zip: string): Promise<UploadMeasure> {
  const post = await presign(app.url, key, productId);
  const status = await postFileToS3(post, zip);
  if (status !== 204) throw new Error(`S3 POST answered ${status}`);
  await ask(s3, { type: 'reset' });
  const before = memoryOf(app.pid);
  resetPeak(app.pid);
  const started = performance.now();
  const version = await finalize(app.url, key, productId, post.key);
  const finalizeMs = performance.now() - started;
  const atAnswer = memoryOf(app.pid);
  const during = (await ask<{ exchanges: Exchange[] }>(s3, { type: 'counters' })).exchanges;
  await waitForChecksum(app, key, productId, version.id);
  const checksumMs = performance.now() - started;
  const after = memoryOf(app.pid);
  const all = (await ask<{ exchanges: Exchange[] }>(s3, { type: 'counters' })).exchanges;
  const others = (await ask<{ exchanges: Exchange[] }>(s3, { type: 'counters', proxy: 'shared' })).exchanges;
  // The request's own reads are the HEAD and the ranged GETs; a whole-object GET is the checksum stream.
  const requestReads = during.filter((x) => x.method !== 'GET' || x.range !== null);
  const requestS3: Record<string, number> = {};
  for (const x of requestReads) {
    const k = x.range ? `${x.method} range` : x.method;
    requestS3[k] = (requestS3[k] ?? 0) + 1;
  }
  const wholeDuring = during.filter((x) => x.method === 'GET' && x.range === null && x.done);
  for (const x of wholeDuring) requestS3['GET whole'] = (requestS3['GET whole'] ?? 0) + 1;
  return {
    label,
    zipBytes: fs.statSync(zip).size,
    // A whole-object read that finished before the answer is the request's own (an inline checksum).
    requestBytesRead: bytesOf(requestReads) + bytesOf(wholeDuring),
    requestS3,
    backgroundBytesRead: bytesOf(all) - bytesOf(requestReads) - bytesOf(wholeDuring),
    otherServersBytesRead: bytesOf(others),
    rssBefore: before.rss,
    rssPeakRequest: Math.max(atAnswer.hwm, atAnswer.rss),
    rssPeak: Math.max(after.hwm, after.rss, atAnswer.hwm),
    rssAfter: after.rss,
    finalizeMs,
    checksumMs,
  };
}

async function main(): Promise<void> {
  const info = machine();
  out(`Wharf bench: ${info.cores} cores (${info.cpu}), ${info.memory_gb} GB RAM, Node ${info.node}, ${info.os}; load average at start ${info.load_avg_at_start.join(' ')}`);
  out(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, ceiling and Wharf runs alternated, ${REPEAT} round(s)`);
  if (!fs.existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: run npm run build`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-'));
  cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  const wanted = (k: string) => !ONLY || ONLY.has(k);

  const db = await createDatabase();
  cleanups.push(() => db.drop());
  const memcached: Memcached | null = await startMemcached();
  if (memcached) cleanups.push(() => memcached.stop());
  const s3 = await startS3(tmp);
  out(`services: PostgreSQL database ${db.name}; memcached ${memcached ? `on port ${memcached.port}` : 'not available (in-process cache only)'}; s3rver on ${s3.s3Port} behind a counting proxy on ${s3.proxyPort}`);
  // After the services start, so they do not inherit CPU 0 from this process.
  const pinned = PIN && pinToCpu(process.pid, 0);
  out(pinned ? 'pinned: autocannon (this process) to CPU 0, every measured server to CPU 1 (BENCH_PIN=0 turns this off)' : 'not pinned to CPUs');

  const baseEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL,
    SECRET_KEY,
    RATE_LIMIT_UPDATES_PER_MINUTE: '0',
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: `http://127.0.0.1:${s3.proxyPort}`,
    S3_PUBLIC_ENDPOINT: `http://127.0.0.1:${s3.s3Port}`,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    MAX_UPLOAD_BYTES: String(256 * 1024 * 1024),
  };
  const app = async (name: string, extra: Record<string, string>, serverJs = SERVER_JS) => {
    const dataDir = path.join(tmp, `data-${name}`);
    // Under BENCH_PROFILE every app writes <dir>/<name>.cpuprofile when it exits.
    const nodeArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
    const a = await startApp(name, { serverJs, env: { ...baseEnv, DATA_DIR: dataDir, ...extra }, logFile: path.join(tmp, `${name}.log`), nodeArgs });
    apps.push(a);
    pinServer(a.pid);
    cleanups.unshift(() => a.stop()); // apps stop before the services they use
    return a;
  };

  const pg = { DATABASE_URL: db.url };
  // The in-process cache bounded below the mixed scenario's 100,000 codes: misses go to memcached.
  const cachedApp = await app('cached', { ...pg, CACHE_L1_MAX_ENTRIES: String(MIX_L1_ENTRIES), ...(memcached ? { MEMCACHED_SERVERS: `127.0.0.1:${memcached.port}` } : {}) });
  const seeded: Seeded = await seed(cachedApp.url, tmp);
  await backdate(db, seeded.productId);
  out(`seeded: plugin ${seeded.productId} (${seeded.versions.join(', ')}), a valid code and one that expired with 1.0.0 entitled`);
  await startRollout(cachedApp.url, seeded);

  const targets: { t: Target; check: Parameters<typeof verify>[1] }[] = [];
  const alternatives: { after: string; t: Target; check: Parameters<typeof verify>[1] }[] = [];
  const cached = updateCheck('cached', `update check, valid code, warm cache (${memcached ? 'memcached + in-process' : 'in-process'})`, cachedApp, seeded.productId, { license: seeded.validCode });
  const answer = await once(cached);
  const downloadUrl = new URL(JSON.parse(answer.body).download_url as string);
  if (wanted('cached')) targets.push({ t: cached, check: validAnswer('1.2.0') });
  const expiredCheck: Parameters<typeof verify>[1] = (s, j) =>
    s !== 200 ? 'expected 200' : j?.license_error?.code !== 'expired' ? 'expected license_error expired' : j.version !== '1.0.0' || !j.download_url ? 'expected 1.0.0 with a download_url' : null;
  const expiredFields = { license: seeded.expiredCode, installed_version: '0.9.0' };
  for (const [i, serverJs] of COMPARE_SERVERS.entries()) {
    // Other builds of the app (e.g. scratch copies with a change applied) on the same database and memcached,
    // measured right after this build's run of the same scenario.
    const suffix = i === 0 ? '_alt' : `_alt${i + 1}`;
    const build = `build ${path.relative(process.cwd(), serverJs) || serverJs}`;
    const altApp = await app(`alt${i + 1}`, { ...pg, ...(memcached ? { MEMCACHED_SERVERS: `127.0.0.1:${memcached.port}` } : {}) }, serverJs);
    if (wanted('cached')) alternatives.push({ after: 'cached', t: updateCheck(`cached${suffix}`, `same, ${build}`, altApp, seeded.productId, { license: seeded.validCode }), check: validAnswer('1.2.0') });
    if (wanted('expired')) alternatives.push({ after: 'expired', t: updateCheck(`expired${suffix}`, `same, ${build}`, altApp, seeded.productId, expiredFields), check: expiredCheck });
    if (wanted('uncached')) {
      const altUncached = await app(`alt${i + 1}-uncached`, { ...pg, CACHE_L1_TTL_MS: '0' }, serverJs);
      alternatives.push({ after: 'uncached', t: updateCheck(`uncached${suffix}`, `same, ${build}`, altUncached, seeded.productId, { license: seeded.validCode }), check: validAnswer('1.2.0') });
    }
  }
  if (wanted('cached_get')) targets.push({ t: updateCheck('cached_get', 'same, as a GET with a query string', cachedApp, seeded.productId, { license: seeded.validCode }, 'GET'), check: validAnswer('1.2.0') });
  if (wanted('expired')) targets.push({ t: updateCheck('expired', 'update check, expired code (offers entitled 1.0.0)', cachedApp, seeded.productId, expiredFields), check: expiredCheck });
  const redirectCheck: Parameters<typeof verify>[1] = (s, _j, h) => (s !== 302 ? 'expected 302' : !h.get('location')?.includes(`127.0.0.1:${s3.s3Port}`) ? 'expected a Location on S3' : null);
  if (wanted('download_distinct')) targets.push({ t: await distinctDownloads(db.sql, SECRET_KEY, cachedApp, seeded.productId), check: redirectCheck });
  if (wanted('mixed')) {
    const t = await mixedChecksTarget(db.sql, cachedApp, seeded, tmp, CONNECTIONS, out);
    targets.push({ t, check: (s, j) => (s !== 200 ? 'expected 200' : !j?.version ? 'expected a version' : null) });
  }
  if (wanted('download'))
    targets.push({
      t: { key: 'download', label: 'download redirect, one code without limits (302 to S3; counted, recorded)', url: `${cachedApp.url}${downloadUrl.pathname}`, method: 'GET', pid: cachedApp.pid, headers: { 'user-agent': 'WordPress/6.5.2; https://shop.example.com' } },
      check: redirectCheck,
    });
  if (wanted('uncached')) {
    const uncachedApp = await app('uncached', { ...pg, CACHE_L1_TTL_MS: '0' });
    targets.push({ t: updateCheck('uncached', 'update check, cache disabled, PostgreSQL', uncachedApp, seeded.productId, { license: seeded.validCode }), check: validAnswer('1.2.0') });
  }
  if (wanted('uncached_pglite')) {
    const pgliteApp = await app('pglite', { CACHE_L1_TTL_MS: '0' });
    const s = await seed(pgliteApp.url, tmp);
    targets.push({ t: updateCheck('uncached_pglite', 'update check, cache disabled, PGlite', pgliteApp, s.productId, { license: s.validCode }), check: validAnswer('1.2.0') });
  }
  // Each other build's run goes right after this build's run of the same scenario.
  const scenarios = targets.flatMap((x) => [x, ...alternatives.filter((a) => a.after === x.t.key)]);
  for (const { t, check } of scenarios) await verify(t, check);

  // The ceiling answers exactly what Wharf answered, headers included (minus per-connection ones).
  const headers: Record<string, string> = {};
  answer.headers.forEach((v, k) => {
    if (!['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(k)) headers[k] = v;
  });
  out(`update-check answer: ${Buffer.byteLength(answer.body)} bytes of JSON; ceiling serves the same bytes and headers`);
  const ceiling = await startCeiling({ status: answer.status, headers, body: answer.body });
  const ceilingTarget: Target = { ...cached, key: 'ceiling', label: 'ceiling: bare node:http, same bytes', url: ceiling.url, pid: ceiling.child.pid ?? 0 };

  out();
  const sequence: LoadResult[] = [];
  // Which app served each scenario, and when its first measured run happened (for the profiles).
  const windows = new Map<string, { app: string; startUs: number; endUs: number }>();
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const run = async (t: Target) => {
    const startUs = nowUs();
    const r = await load(t, SECONDS, CONNECTIONS);
    const served = apps.find((a) => a.pid === t.pid);
    if (served && !windows.has(t.key)) windows.set(t.key, { app: served.name, startUs, endUs: nowUs() });
    sequence.push(r);
    const codes = Object.entries(r.statuses).map(([c, n]) => `${c}×${n}`).join(' ');
    out(`  ${r.label.padEnd(62)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  max ${r.max} ms  errors ${r.errors}  cpu ${Math.round(r.cpuUsPerRequest)} µs/req  PostgreSQL ${Number.isFinite(r.dbCpuUsPerRequest) ? Math.round(r.dbCpuUsPerRequest) : '-'} µs/req  [${codes}]`);
  };
  await load(ceilingTarget, 1, CONNECTIONS); // warm-up, not counted
  for (let round = 0; round < REPEAT; round++) {
    for (const { t } of scenarios) {
      await run(ceilingTarget);
      await load(t, 1, CONNECTIONS); // warm-up: JIT, pools, caches
      await run(t);
    }
  }
  await run(ceilingTarget);

  const uploads: { small?: UploadMeasure; big?: UploadMeasure } = {};
  if (UPLOAD) {
    // A fresh app process, so its RSS says what a finalize costs and not what the load runs left behind.
    const uploadApp = await app('upload', { ...pg, S3_ENDPOINT: `http://127.0.0.1:${s3.uploadProxyPort}` });
    const productId = await createProduct(uploadApp.url, seeded.key, 'acme-media-pack');
    await releaseFiles(uploadApp.url, seeded.key, productId, pluginFiles('0.1.0', 'acme-media-pack'), path.join(tmp, 'warm.zip')); // warm-up
    const zip = path.join(tmp, 'release.zip');
    writeBigZip(zip, pluginFiles('0.2.0', 'acme-media-pack'), 'acme-media-pack/assets/media.bin', SMALL_ZIP_BYTES);
    uploads.small = await measureFinalize(uploadApp, s3.child, seeded.key, productId, '1 MB zip', zip);
    writeBigZip(zip, pluginFiles('0.3.0', 'acme-media-pack'), 'acme-media-pack/assets/media.bin', BIG_ZIP_BYTES);
    uploads.big = await measureFinalize(uploadApp, s3.child, seeded.key, productId, '200 MB zip', zip);
    fs.rmSync(zip, { force: true });
  }

  const runs = withRatios(sequence);
  const rows = aggregate(runs);
  out();
  out(loadTable(runs));
  if (REPEAT > 1) {
    out();
    out(`medians over ${REPEAT} rounds:`);
    out(loadTable(rows));
  }
  if (UPLOAD) {
    out();
    out(uploadTable([uploads.small!, uploads.big!]));
  }

  if (PROFILE_DIR) {
    for (const a of apps) await a.stop(); // --cpu-prof writes on exit
    for (const [key, w] of windows) {
      const file = path.join(PROFILE_DIR, `${w.app}.cpuprofile`);
      if (!fs.existsSync(file)) continue;
      out();
      out(`cpu profile of "${key}" (app "${w.app}", ${file}):`);
      out(summarise(JSON.parse(fs.readFileSync(file, 'utf8')), 25, w));
    }
  }

  await cleanup();
  out();
  const machineNow = { ...info, load_avg_at_end: os.loadavg().map((n) => Math.round(n * 100) / 100) };
  out(JSON.stringify(summary(rows, uploads, { seconds: SECONDS, connections: CONNECTIONS, rounds: REPEAT, memcached: !!memcached, answer_bytes: Buffer.byteLength(answer.body), machine: machineNow })));
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0)) await fn().catch((err) => process.stderr.write(`cleanup: ${(err as Error).message}\n`));
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping what the bench started…\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  for (const a of apps) process.stderr.write(`--- ${a.name} app log (tail) ---\n${tailFile(a.logFile, 2000)}\n`);
  await cleanup();
  process.exit(1);
});
