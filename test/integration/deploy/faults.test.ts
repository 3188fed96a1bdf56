import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { pluginZip, postToS3 } from '../../support/releases';
import { REPO, startTopology, type Topology } from '../../support/topology';

/**
 * Faults on the whole topology (nginx, 3 app servers, Patroni, memcached, S3) under load from a
 * bounded loop of fetches on loopback. Needs `npm run build` first; fails (never skips) without it.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  at: number;
  status: number; // 0 = network error or timeout
  error?: string;
}

interface LoadReport {
  total: number;
  failed: Sample[];
  byStatus: Record<string, number>;
  /** Requests resent once because nginx closed an idle keep-alive connection under them. */
  retried: number;
}

interface LoadRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

type MakeRequest = (n: number) => LoadRequest;

/**
 * Runs `concurrency` workers issuing requests until stop() or `maxMs`. A failure is what a client
 * would see as the service failing: a 5xx, a network error, or no answer within 5 s.
 * keepAlive: connections are reused, and a request that dies on a REUSED connection before any
 * answer is resent once, as browsers and cURL do (an nginx reload closes idle keep-alive
 * connections; the request never reached nginx). Without keepAlive: a fresh connection each time.
 */
/** `pauseMs`: each worker's pause between requests (none: a closed loop as fast as the servers answer). */
function startLoad(base: string, make: MakeRequest, opts: { concurrency?: number; maxMs?: number; keepAlive: boolean; label: string; pauseMs?: number }) {
  const samples: Sample[] = [];
  const agent = opts.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 8 }) : undefined;
  const t0 = Date.now();
  let stopped = false;
  let n = 0;
  let retried = 0;
  const once = (r: LoadRequest, fresh = false): Promise<{ status: number; reused: boolean }> =>
    new Promise((resolve, reject) => {
      const req = http.request(`${base}${r.path}`, { method: r.method ?? 'GET', headers: r.headers, agent: fresh ? false : (agent ?? false) }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: false }));
        res.on('error', reject);
      });
      req.setTimeout(5000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reused: req.reusedSocket })));
      req.end(r.body);
    });
  const worker = async () => {
    while (!stopped && Date.now() - t0 < (opts.maxMs ?? 60_000)) {
      const r = make(n++);
      const at = Date.now();
      try {
        let res;
        // A connection nginx resets while it reloads (an old worker closing what it had accepted or
        // kept alive) never reached an app server: a GET is resent on a new connection, up to 3
        // times; a request that reached a server and failed counts. Writes are never resent.
        for (let attempt = 0; ; attempt++) {
          try {
            res = await once(r, attempt > 0);
            break;
          } catch (err) {
            const e = err as NodeJS.ErrnoException & { reused?: boolean };
            const reset = e.code === 'ECONNRESET' || e.message === 'socket hang up';
            const idempotent = (r.method ?? 'GET') === 'GET';
            if (!reset || attempt >= 3 || !(e.reused || idempotent)) throw err;
            retried++;
          }
        }
        samples.push({ at, status: res.status });
      } catch (err) {
        samples.push({ at, status: 0, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      }
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 8 }, worker);
  return {
    stop: async (): Promise<LoadReport> => {
      stopped = true;
      await Promise.all(workers);
      agent?.destroy();
      const byStatus: Record<string, number> = {};
      for (const s of samples) byStatus[s.error ?? s.status] = (byStatus[s.error ?? s.status] ?? 0) + 1;
      const failed = samples.filter((s) => s.status === 0 || s.status >= 500);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        `[faults] ${opts.label}: ${samples.length} requests in ${secs}s, ${failed.length} failed, ` +
          `${retried} resent after a connection reset; by status ${JSON.stringify(byStatus)}`,
      );
      return { total: samples.length, failed, byStatus, retried };
    },
  };
}

// A compact failure message instead of a diff of hundreds of samples.
function expectNoFailures(report: LoadReport, since = 0): void {
  const failed = report.failed.filter((s) => s.at >= since);
  if (failed.length === 0) return;
  const kinds: Record<string, number> = {};
  for (const f of failed) kinds[f.error ?? String(f.status)] = (kinds[f.error ?? String(f.status)] ?? 0) + 1;
  throw new Error(`${failed.length} of ${report.total} requests failed: ${JSON.stringify(kinds)}`);
}

/** Reads and writes memcached has served (cmd_get + cmd_set from its own `stats`, text protocol). */
function memcachedCommands(port: number): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write('stats\r\n'));
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('data', (d) => {
      text += d;
      if (text.includes('END\r\n')) sock.end();
    });
    sock.on('close', () => resolve(Number(/STAT cmd_get (\d+)/.exec(text)?.[1] ?? 0) + Number(/STAT cmd_set (\d+)/.exec(text)?.[1] ?? 0)));
    sock.on('error', () => resolve(0));
  });
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

const appPid = (t: Topology, n: number) => fs.readFileSync(path.join(t.dir, 'pids', `app-${n}.pid`), 'utf8').trim();
const appRelease = (t: Topology, n: number) => fs.readFileSync(path.join(t.dir, 'apps', `app-${n}`, 'release'), 'utf8').trim();

async function allReady(t: Topology): Promise<boolean> {
  const res = await Promise.all(t.appPorts.map((p) => fetch(`http://127.0.0.1:${p}/readyz`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false)));
  return res.every(Boolean);
}

describe('production topology under faults', () => {
  let topo: Topology;
  let apiKey: string;
  let productId: string;
  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  let code: string;
  // The hot path WordPress sites hit, plus an authenticated read that always reaches the database.
  const updateCheck: MakeRequest = (n) => ({
    path: `/api/v1/updates/${productId}?installed_version=1.0.0&checking_for_updates=1&license=${code}`,
    headers: { 'user-agent': `WordPress/6.4; https://site${n % 50}.example.com` },
  });
  const dashboardRead: MakeRequest = () => ({ path: `/api/v1/products/${productId}`, headers: auth() });
  const readMix: MakeRequest = (n) => (n % 2 === 0 ? updateCheck(n) : dashboardRead(n));
  const reads = (label: string, maxMs: number, concurrency = 8) => startLoad(topo.nginxUrl, readMix, { label, maxMs, keepAlive: true, concurrency });

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO, 'dist/src/server.js'))) throw new Error('dist/src/server.js is missing: run `npm run build` first');
    // Every load client here is 127.0.0.1: the per-IP limit would only add 429s to the counts.
    process.env.WHARF_RATE_LIMIT_UPDATES_PER_MINUTE = '0';
    topo = await startTopology({ apps: 3 });
    console.log(`[faults] topology up (etcd, 3 Patroni, memcached, S3, 3 apps, nginx) in ${topo.startupMs} ms`);
    const env = topo.appEnv;
    await run('node', ['dist/src/cli.js', 'user:create', '--email', 'faults@example.com', '--password', 'correct-horse-battery'], env);
    apiKey = (await run('node', ['dist/src/cli.js', 'apikey:create', '--email', 'faults@example.com'], env)).trim();
    const res = await fetch(`${topo.nginxUrl}/api/v1/products`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'plugin', slug: 'fault-probe', name: 'Fault probe' }),
    });
    expect(res.status).toBe(201);
    productId = ((await res.json()) as { id: string }).id;
    // A live release and a purchase code, so update checks answer 200 with a download URL.
    const post = (await (await fetch(`${topo.nginxUrl}/api/v1/products/${productId}/uploads`, { method: 'POST', headers: auth() })).json()) as { url: string; fields: Record<string, string>; key: string };
    expect((await postToS3(post, pluginZip('fault-probe', '1.1.0'))).status).toBe(204);
    const fin = await fetch(`${topo.nginxUrl}/api/v1/products/${productId}/versions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ key: post.key }) });
    expect(fin.status).toBe(201);
    // Offered once the app server that finalized it has verified the zip.
    const versionId = ((await fin.json()) as { id: string }).id;
    for (let i = 0; ; i++) {
      const v = (await (await fetch(`${topo.nginxUrl}/api/v1/products/${productId}/versions/${versionId}`, { headers: auth() })).json()) as { status: string };
      if (v.status === 'ready') break;
      if (v.status === 'refused' || i > 600) throw new Error(`release not verified: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const codes = await fetch(`${topo.nginxUrl}/api/v1/products/${productId}/purchase-codes`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    code = ((await codes.json()) as { codes: { code: string }[] }).codes[0]!.code;
    const check = await fetch(`${topo.nginxUrl}${updateCheck(0).path}`, { headers: updateCheck(0).headers });
    expect(((await check.json()) as { version: string; download_url?: string }).download_url).toBeDefined();
  }, 180_000);

  afterAll(async () => {
    await topo?.stop();
  }, 120_000);

  test('three app servers started together on an empty database applied the migrations once', async () => {
    const journal = JSON.parse(fs.readFileSync(path.join(REPO, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    const sql = postgres(topo.databaseUrl, { max: 1, connect_timeout: 5, onnotice: () => undefined });
    try {
      const rows = await sql<{ hash: string; n: number }[]>`select hash, count(*)::int as n from drizzle.__drizzle_migrations group by hash`;
      expect(rows.length).toBe(journal.entries.length);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      await sql.end({ timeout: 1 });
    }
    const logs = [1, 2, 3].map((n) => fs.readFileSync(path.join(topo.dir, 'logs', `app-${n}.log`), 'utf8'));
    const appliers = logs.filter((l) => l.includes('migrations applied'));
    console.log(`[faults] migrations: ${journal.entries.length} applied by ${appliers.length} of 3 servers started at once`);
    expect(appliers.length).toBe(1);
  });

  test('kill -9 of an app server under load: no request fails', async () => {
    const load = reads('kill -9 app-2', 20_000);
    await sleep(1500);
    await topo.killApp(2);
    await sleep(3000);
    const report = await load.stop();
    expect(report.total).toBeGreaterThan(100);
    expectNoFailures(report);
    await topo.startApp(2);
  }, 60_000);

  test('memcached stopped under load: still serving; restarted: used again', async () => {
    const load = reads('memcached stop/start', 60_000);
    await sleep(1500);
    await topo.stopMemcached();
    await sleep(3000);
    await topo.startMemcached();
    // The restarted memcached starts with empty counters: commands prove the apps came back to it
    // (after their circuit breakers' cool-down, at most 60 s). Update checks alone may not ask it
    // anything for minutes (the servers hear each other's writes and trust what they hold), so a
    // code is revoked and reinstated meanwhile: each write marks memcached and makes servers reread.
    const [toggled] = ((await (await fetch(`${topo.nginxUrl}/api/v1/products/${productId}/purchase-codes`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })).json()) as { codes: { code: string }[] }).codes;
    const restartedAt = Date.now();
    let commands = 0;
    for (let i = 0; commands === 0 && Date.now() - restartedAt < 45_000; i++) {
      await fetch(`${topo.nginxUrl}/api/v1/purchase-codes/${toggled!.code}`, { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ revoked: i % 2 === 0 }) });
      await fetch(`${topo.nginxUrl}/api/v1/updates/${productId}?license=${toggled!.code}`);
      await sleep(500);
      commands = await memcachedCommands(topo.memcachedPort);
    }
    const report = await load.stop();
    console.log(`[faults] memcached used again ${Date.now() - restartedAt} ms after its restart (${commands} commands)`);
    expect(report.total).toBeGreaterThan(100);
    expectNoFailures(report);
    expect(commands).toBeGreaterThan(0);
  }, 90_000);

  test('rolling deploy under load: every read and every write succeeds', async () => {
    const before = [1, 2, 3].map((n) => appRelease(topo, n));
    const readLoad = reads('rolling deploy, reads', 120_000);
    // Writes too, on fresh connections: a server leaves nginx before it drains, so no POST is cut off.
    const writes = startLoad(
      topo.nginxUrl,
      (n) => ({
        path: '/api/v1/products',
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'plugin', slug: `deploy-${n}`, name: `Deploy ${n}` }),
      }),
      { label: 'rolling deploy, writes', concurrency: 2, maxMs: 120_000, keepAlive: false },
    );
    const lines: string[] = [];
    const result = await topo.deploy({ skipBuild: true, onLine: (l) => lines.push(l) });
    const [r, w] = await Promise.all([readLoad.stop(), writes.stop()]);
    console.log(`[faults] deploy output:\n${lines.join('\n')}`);
    expect(result.code).toBe(0);
    expect(lines.some((l) => l.includes('[2/3] app-2: draining'))).toBe(true);
    expectNoFailures(r);
    expectNoFailures(w);
    expect(w.byStatus['201']).toBe(w.total);
    const after = [1, 2, 3].map((n) => appRelease(topo, n));
    after.forEach((rel, i) => expect(rel).not.toBe(before[i]));
    expect(new Set(after).size).toBe(1);
  }, 180_000);

  test('a new build that never gets ready is rolled back; the deploy fails and no request does', async () => {
    const good = [1, 2, 3].map((n) => appRelease(topo, n));
    const broken = await topo.createRelease();
    // Listens, but never answers /readyz with 200: the deploy must give up on it.
    fs.writeFileSync(
      path.join(broken, 'dist/src/server.js'),
      "require('node:http').createServer((q, s) => { s.statusCode = 503; s.end('broken build'); }).listen(Number(process.env.PORT), process.env.HOST);\n",
    );
    const load = reads('failed deploy + rollback', 120_000);
    const lines: string[] = [];
    const result = await topo.deploy({ release: broken, readyTimeout: 3, onLine: (l) => lines.push(l) });
    const report = await load.stop();
    console.log(`[faults] failed deploy output:\n${lines.join('\n')}\n${result.stderr}`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/rolling back/);
    expect([1, 2, 3].map((n) => appRelease(topo, n))).toEqual(good);
    expect(await allReady(topo)).toBe(true);
    expectNoFailures(report);
  }, 180_000);

  test('primary killed under load, both cores busy: 0 failed update checks, writes again (time printed), apps recover without a restart', async () => {
    const pids = [1, 2, 3].map((n) => appPid(topo, n));
    // A CPU burner on both cores the whole time: the update checks must not depend on a quiet machine.
    const burner = spawn('stress-ng', ['--cpu', '2', '--timeout', '110s', '--quiet'], { stdio: 'ignore', detached: true });
    const burnerExit = new Promise<number | null>((resolve) => burner.once('exit', resolve));
    const burnerError = new Promise<Error>((resolve) => burner.once('error', resolve));
    try {
      // Paced (10 ms between a worker's requests): unpaced, the update checks alone are answered fast
      // enough to keep both cores busy, and Patroni, etcd and this test's own clock starve with them.
      const paced = { maxMs: 60_000, keepAlive: true, pauseMs: 10 };
      const checks = startLoad(topo.nginxUrl, updateCheck, { ...paced, label: 'kill the PostgreSQL primary, update checks through nginx', concurrency: 8 });
      const load = startLoad(topo.nginxUrl, dashboardRead, { ...paced, label: 'kill the PostgreSQL primary, dashboard reads through nginx', concurrency: 4 });
      // And more database-bound clients on each server than its pool has slots (DATABASE_POOL_MAX 10),
      // so every pool slot lives through the outage.
      const dbRead: MakeRequest = () => ({ path: `/api/v1/products/${productId}`, headers: auth() });
      const direct = topo.appPorts.map((port, i) =>
        startLoad(`http://127.0.0.1:${port}`, dbRead, { ...paced, label: `kill the PostgreSQL primary, app-${i + 1} directly`, concurrency: 12 }),
      );
      await sleep(1500);
      // Timed from the kill itself, not from the start of the script that finds and kills the leader.
      const { port: killedPort, at: killedAt } = await topo.killPrimary();

      let writeOkAfter = -1;
      for (let i = 0; Date.now() - killedAt < 45_000; i++) {
        const res = await fetch(`${topo.nginxUrl}/api/v1/products`, {
          method: 'POST',
          headers: { ...auth(), 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'plugin', slug: `failover-${i}`, name: `Failover ${i}` }),
          signal: AbortSignal.timeout(5000),
        }).catch(() => undefined);
        if (res?.status === 201) {
          writeOkAfter = Date.now() - killedAt;
          break;
        }
        await sleep(250);
      }
      // A few seconds after writes work again, reads must be clean on every server: a steady window.
      await sleep(3000);
      const steadyFrom = Date.now();
      await sleep(3000);
      const report = await load.stop();
      const checkReport = await checks.stop();
      const perApp = await Promise.all(direct.map((d) => d.stop()));
      const lastFailure = Math.max(0, ...report.failed.map((s) => s.at - killedAt));
      const burning = await Promise.race([burnerError.then((e) => `stress-ng failed: ${e.message}`), burnerExit.then((c) => `stress-ng exited early (${c})`), sleep(10).then(() => 'ok')]);
      console.log(
        `[faults] with stress-ng --cpu 2: primary :${killedPort} killed → first write OK after ${writeOkAfter} ms; ` +
          `${checkReport.failed.length} of ${checkReport.total} update checks failed; ` +
          `${report.failed.length} of ${report.total} dashboard reads failed, the last ${lastFailure} ms after the kill; new primary :${await topo.primaryPort()}`,
      );
      // An app server that stopped answering says why in its own log (topology.sh writes logs/app-N.log).
      perApp.forEach((r, i) => {
        if (!r.failed.some((f) => f.error === 'ECONNREFUSED')) return;
        const log = path.join(topo.dir, 'logs', `app-${i + 1}.log`);
        const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trimEnd().split('\n') : [];
        console.log(`[faults] app-${i + 1} refused connections; the last lines of ${log}:\n${lines.slice(-25).join('\n')}`);
      });
      expect(burning).toBe('ok'); // the burner really ran throughout (Debian: stress-ng)
      // Writes came back within the 45 s window (Patroni's TTL is 10 s; the time is printed above, not asserted).
      expect(writeOkAfter).toBeGreaterThan(0);
      // Update checks are served from the caches while there is no primary: none may fail, ever.
      expectNoFailures(checkReport);
      expect(checkReport.byStatus['200']).toBe(checkReport.total);
      // Dashboard reads need the database: they may fail during the failover, never after.
      expectNoFailures(report, steadyFrom);
      perApp.forEach((r) => expectNoFailures(r, steadyFrom));
      expect([1, 2, 3].map((n) => appPid(topo, n))).toEqual(pids);
      expect(await allReady(topo)).toBe(true);
    } finally {
      if (burner.pid && burner.exitCode === null) process.kill(-burner.pid, 'SIGTERM');
      await burnerExit;
    }
  }, 150_000);
});
