import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pluginZip, postToS3 } from '../../support/releases';
import { REPO, startTopology, type Topology } from '../../support/topology';

/**
 * Rollouts on the local production topology (3 app servers, Patroni, memcached, S3, nginx): every
 * app server offers a staged rollout to the same sites, and a pulled version disappears from all
 * of them within the in-process cache's lifetime, its download URL refused. Needs `npm run build`.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOSTS = Array.from({ length: 400 }, (_, i) => `rollout-${i}.example.com`);

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe('rollouts across the app servers of the production topology', () => {
  let topo: Topology;
  let key: string;
  let productId: string;
  const auth = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  const apps = () => topo.appPorts.map((p) => `http://127.0.0.1:${p}`);
  const vendorApi = async (base: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${p}`, { method, headers: auth(), ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  const check = async (base: string, host: string) =>
    (await (await fetch(`${base}/api/v1/updates/${productId}?installed_version=0.9.0&domain=https://${host}`)).json()) as { version: string; download_url?: string };
  async function offered(base: string, version: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < HOSTS.length; i += 20) {
      const answers = await Promise.all(HOSTS.slice(i, i + 20).map((h) => check(base, h)));
      answers.forEach((a, j) => a.version === version && out.add(HOSTS[i + j]!));
    }
    return out;
  }

  async function release(version: string) {
    const nginx = topo.nginxUrl;
    const post = (await vendorApi(nginx, 'POST', `/products/${productId}/uploads`)).json;
    expect((await postToS3(post, pluginZip('rollout-probe', version))).status).toBe(204);
    const fin = await vendorApi(nginx, 'POST', `/products/${productId}/versions`, { key: post.key });
    expect(fin.status).toBe(201);
    for (let i = 0; ; i++) {
      const v = (await vendorApi(nginx, 'GET', `/products/${productId}/versions/${fin.json.id}`)).json;
      if (v.status === 'ready') break;
      if (v.status === 'refused' || i > 600) throw new Error(`release not verified: ${JSON.stringify(v)}`);
      await sleep(50);
    }
  }

  beforeAll(async () => {
    if (!fs.existsSync(path.join(REPO, 'dist/src/server.js'))) throw new Error('dist/src/server.js is missing: run `npm run build` first');
    process.env.WHARF_RATE_LIMIT_UPDATES_PER_MINUTE = '0'; // every check here comes from 127.0.0.1
    topo = await startTopology({ apps: 3 });
    await run('node', ['dist/src/cli.js', 'user:create', '--email', 'rollouts@example.com', '--password', 'correct-horse-battery'], topo.appEnv);
    key = (await run('node', ['dist/src/cli.js', 'apikey:create', '--email', 'rollouts@example.com'], topo.appEnv)).trim();
    const created = await vendorApi(topo.nginxUrl, 'POST', '/products', { type: 'plugin', slug: 'rollout-probe', name: 'Rollout probe', free: true });
    expect(created.status).toBe(201);
    productId = created.json.id;
    await release('1.0.0');
    await release('1.1.0');
  }, 240_000);

  afterAll(async () => {
    await topo?.stop();
  }, 120_000);

  test('a 25% rollout reaches the same sites on every app server; a pulled version disappears from all of them within the cache lifetime', async () => {
    // Every server has the product cached before the change.
    for (const base of apps()) expect((await check(base, HOSTS[0]!)).version).toBe('1.1.0');
    const before = await check(apps()[2]!, HOSTS[0]!);

    expect((await vendorApi(apps()[0]!, 'PATCH', `/products/${productId}/versions/1.1.0`, { rollout_percent: 25 })).status).toBe(200);
    await sleep(1500);
    const sets = [];
    for (const base of apps()) sets.push(await offered(base, '1.1.0'));
    console.log(`[rollouts] 25%: ${sets.map((s) => s.size).join(', ')} of ${HOSTS.length} sites offered 1.1.0 on the three app servers`);
    expect(sets[0]!.size).toBeGreaterThanOrEqual(60);
    expect(sets[0]!.size).toBeLessThanOrEqual(140);
    expect(sets[1]).toEqual(sets[0]);
    expect(sets[2]).toEqual(sets[0]);
    expect(await offered(topo.nginxUrl, '1.1.0')).toEqual(sets[0]);
    expect((await vendorApi(apps()[0]!, 'PATCH', `/products/${productId}/versions/1.1.0`, { rollout_percent: 100 })).status).toBe(200);
    await sleep(1500);
    for (const base of apps()) expect((await check(base, HOSTS[1]!)).version).toBe('1.1.0');

    // Pull through app-2; watch app-1 and app-3 stop offering it.
    const t0 = Date.now();
    expect((await vendorApi(apps()[1]!, 'PATCH', `/products/${productId}/versions/1.1.0`, { pulled: true })).status).toBe(200);
    const gone: number[] = [];
    for (const base of apps()) {
      for (;;) {
        if ((await check(base, HOSTS[1]!)).version === '1.0.0') break;
        if (Date.now() - t0 > 10_000) throw new Error(`${base} still offers the pulled version after 10 s`);
        await sleep(20);
      }
      gone.push(Date.now() - t0);
    }
    console.log(`[rollouts] pulled 1.1.0 gone from the three app servers after ${gone.join(', ')} ms`);
    for (const base of apps()) {
      expect((await check(base, HOSTS[2]!)).version).toBe('1.0.0');
      const download = await fetch(`${base}${new URL(before.download_url!).pathname}`, { redirect: 'manual' });
      expect(download.status).toBe(404);
    }

    expect((await vendorApi(apps()[2]!, 'PATCH', `/products/${productId}/versions/1.1.0`, { pulled: false })).status).toBe(200);
    await sleep(1500);
    for (const base of apps()) expect((await check(base, HOSTS[3]!)).version).toBe('1.1.0');
  }, 120_000);
});
