import { Writable } from 'node:stream';
import yauzl from 'yauzl';
import { sql } from 'drizzle-orm';
import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { bitbucketPush, FakeGit, githubPush } from '../../support/fake-git';
import { newVendor, updateCheck, type Vendor } from '../../support/fixtures';
import { phpWithHeaders } from '../../support/zip-builder';

/**
 * Releases from Git against a local fake GitHub and BitBucket: connect, signed push, build in the
 * job queue, the same validation as an upload, live in a real update check.
 */
async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pluginFiles(slug: string, version: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [`${slug}.php`]: phpWithHeaders({ 'Plugin Name': 'Acme Git', Version: version, 'Requires at least': '5.8', 'Tested up to': '6.4', 'Requires PHP': '7.4', Author: 'Acme' }, "defined('ABSPATH') || exit;\n"),
    'includes/core.php': '<?php // core',
    ...extra,
  };
}

async function zipNames(url: string): Promise<string[]> {
  const res = await fetch(url);
  const buf = Buffer.from(await res.arrayBuffer());
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => (names.push(e.fileName), zip.readEntry()));
      zip.on('end', () => resolve(names.sort()));
      zip.readEntry();
    }),
  );
}

describe.each(DB_KINDS)('releases from Git (%s)', (kind) => {
  let fake: FakeGit;
  let app: TestApp;
  let vendor: Vendor;
  const logs: string[] = [];

  beforeAll(async () => {
    fake = new FakeGit();
    await fake.start();
    fake.repositories = ['acme/acme-git', 'acme/other', 'acme/third', 'team/bb-plugin', 'acme/distignored'];
    const logTo = new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) });
    app = await startTestApp({ db: kind, env: { ...fake.env(), LOG_LEVEL: 'debug' }, logTo });
    vendor = await newVendor(app);
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  async function product(slug: string, free = true): Promise<string> {
    const r = await api(app.url, vendor.key, 'POST', '/api/v1/products', { type: 'plugin', slug, name: `Acme ${slug}`, free });
    expect(r.status).toBe(201);
    return r.json.id;
  }

  async function post(productId: string, push: { body: string; headers: Record<string, string> }) {
    const res = await fetch(`${app.url}/api/v1/webhooks/git/${productId}`, { method: 'POST', body: push.body, headers: push.headers });
    return { status: res.status, json: (await res.json()) as any };
  }

  async function builds(productId: string): Promise<any[]> {
    return (await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}/builds`)).json.builds;
  }

  const finished = (productId: string, n = 1) => until('the build to finish', async () => {
    const b = await builds(productId);
    return b.length >= n && b.every((x) => !['queued', 'building'].includes(x.status)) && b;
  });

  test('GitHub: connect, signed tag push → a live version a real update check offers; status reported; events recorded', async () => {
    const id = await product('acme-git');
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-git', token: fake.token, rule: { tags: 'v*' } });
    expect(put.status).toBe(200);
    expect(Object.keys(put.json).sort()).toEqual(['hook_created', 'provider', 'repository', 'rule', 'webhook_secret', 'webhook_url']);
    expect(put.json).toMatchObject({ provider: 'github', repository: 'acme/acme-git', rule: { tags: 'v*' }, webhook_url: `${app.url}/api/v1/webhooks/git/${id}`, hook_created: true });
    const hook = fake.hooks.at(-1)!;
    expect(hook).toMatchObject({ provider: 'github', repository: 'acme/acme-git', url: put.json.webhook_url, secret: put.json.webhook_secret });

    const got = await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/repository`);
    expect(got.json).toEqual({ provider: 'github', repository: 'acme/acme-git', rule: { tags: 'v*' }, webhook_url: put.json.webhook_url, hook_created: true });
    expect(got.text).not.toContain(fake.token);

    // A ping answers 200 and builds nothing.
    const pingBody = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const ping = await fetch(put.json.webhook_url, { method: 'POST', body: pingBody, headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'ping-1', 'x-hub-signature-256': 'sha256=' + require('node:crypto').createHmac('sha256', hook.secret).update(pingBody).digest('hex') } });
    expect(ping.status).toBe(200);

    const sha = fake.commit(pluginFiles('acme-git', '1.2.3'));
    const res = await post(id, githubPush(hook.secret, 'refs/tags/v1.2.3', sha));
    expect(res.status).toBe(202);
    const [b] = await finished(id);
    expect(b).toMatchObject({ ref: 'refs/tags/v1.2.3', commit: sha, status: 'live', version: '1.2.3', reasons: [] });
    expect(b.log.map((l: any) => l.line).join('\n')).toMatch(/Downloading[\s\S]*is live/);
    expect(b.duration_ms).toEqual(expect.any(Number));

    const check = await updateCheck(app, id, { installed_version: '1.0' }, { 'user-agent': 'WordPress/6.4; https://shop.example.com' });
    expect(check.status).toBe(200);
    expect(check.json.version).toBe('1.2.3');
    expect(await zipNames(check.json.download_url)).toEqual(['acme-git/', 'acme-git/acme-git.php', 'acme-git/includes/', 'acme-git/includes/core.php']);

    const statuses = fake.statuses.filter((s) => s.sha === sha).map((s) => s.state);
    expect(statuses).toEqual(['pending', 'success']);
    expect(fake.statuses.at(-1)!.url).toBe(`${app.url}/products/${id}/builds#build-${b.id}`);
    const events = await app.runtime.database.db.execute(sql`select type, data from events where product_id = ${id} order by created_at`);
    const rows = ((events as any).rows ?? events) as { type: string; data: any }[];
    expect(rows.filter((e) => e.type.startsWith('build.'))).toEqual([{ type: 'build.succeeded', data: expect.objectContaining({ version: '1.2.3', status: 'live' }) }]);
  }, 120_000);

  test('wrong or missing signature → 401 and nothing written; a redelivery → still one build', async () => {
    const id = await product('acme-sig');
    fake.repositories.push('acme/acme-sig');
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-sig', token: fake.token });
    expect(put.json.rule).toEqual({ tags: 'v*, *.*.*' });
    const sha = fake.commit(pluginFiles('acme-sig', '2.0.0'));
    const good = githubPush(put.json.webhook_secret, 'refs/tags/2.0.0', sha, 'delivery-sig-1');
    const wrong = githubPush('not-the-secret', 'refs/tags/2.0.0', sha, 'delivery-sig-2');
    const missing = { body: good.body, headers: { ...good.headers, 'x-hub-signature-256': '' } };
    const tampered = { body: good.body.replace('2.0.0', '2.0.1'), headers: good.headers };
    for (const p of [wrong, missing, tampered]) {
      const r = await post(id, p);
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('invalid_signature');
    }
    expect(await builds(id)).toEqual([]);
    const deliveries = await app.runtime.database.db.execute(sql`select count(*)::int as n from git_deliveries where product_id = ${id}`);
    expect((((deliveries as any).rows ?? deliveries) as any[])[0].n).toBe(0);

    expect((await post(id, good)).status).toBe(202);
    const again = await post(id, good);
    expect(again).toEqual({ status: 200, json: { ok: true, duplicate: true } });
    await finished(id);
    await new Promise((r) => setTimeout(r, 1000));
    const all = await builds(id);
    expect(all.map((b) => b.status)).toEqual(['live']);
  }, 120_000);

  test('BitBucket: .distignore and .git* are left out; a 502 from the provider is retried', async () => {
    const id = await product('bb-plugin');
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'bitbucket', repository: 'team/bb-plugin', token: `acme-bot:${fake.token}` });
    expect(put.json).toMatchObject({ provider: 'bitbucket', hook_created: true });
    const sha = fake.commit(pluginFiles('bb-plugin', '3.1.0', {
      '.distignore': '# not shipped\n/tests\nnode_modules/\n*.md\n.distignore\n',
      '.gitignore': 'vendor/',
      '.github/workflows/ci.yml': 'on: push',
      'tests/test-core.php': '<?php',
      'node_modules/x/index.js': 'x',
      'README.md': '# dev notes',
      'assets/app.js': 'console.log(1)',
    }));
    fake.failArchives = 1;
    expect((await post(id, bitbucketPush(put.json.webhook_secret, 'tag', 'v3.1.0', sha))).status).toBe(202);
    const [b] = await until('the retried build', async () => {
      const list = await builds(id);
      return list[0]?.status === 'live' && list;
    }, 90_000);
    expect(b.attempts).toBe(2);
    expect(b.log.map((l: any) => l.line).join('\n')).toMatch(/502[\s\S]*retried[\s\S]*Attempt 2/);
    const check = await updateCheck(app, id, { installed_version: '1.0' });
    expect(await zipNames(check.json.download_url)).toEqual(['bb-plugin/', 'bb-plugin/assets/', 'bb-plugin/assets/app.js', 'bb-plugin/bb-plugin.php', 'bb-plugin/includes/', 'bb-plugin/includes/core.php']);
    expect(fake.statuses.filter((s) => s.sha === sha).map((s) => s.state)).toEqual(['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL']);
  }, 150_000);

  test('a tag whose Version differs → a failed build with the reason, no version; status failure', async () => {
    const id = await product('acme-mismatch');
    fake.repositories.push('acme/acme-mismatch');
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-mismatch', token: fake.token });
    const sha = fake.commit(pluginFiles('acme-mismatch', '1.4.0'));
    await post(id, githubPush(put.json.webhook_secret, 'refs/tags/v1.5.0', sha));
    const [b] = await finished(id);
    expect(b.status).toBe('failed');
    expect(b.reasons).toEqual(["The tag v1.5.0 does not match the main file's Version: 1.4.0 (the tag says 1.5.0)."]);
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/versions`)).json.versions).toEqual([]);
    expect(fake.statuses.filter((s) => s.sha === sha).at(-1)).toMatchObject({ state: 'failure', description: expect.stringContaining('does not match') });
    const page = await vendor.web.get(`/products/${id}/builds`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('does not match the main file&#39;s Version: 1.4.0');
  }, 120_000);

  test('the repository list is cached per vendor (the fake counts requests), revalidated by ETag on Refresh', async () => {
    const lister = await newVendor(app, 'lister');
    const r = await api(app.url, lister.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'acme-list', name: 'Acme list', free: true });
    const id: string = r.json.id;
    fake.repositories.push('acme/acme-list');
    await api(app.url, lister.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-list', token: fake.token });
    const before = fake.count('GET', '/gh/api/user/repos');
    const first = await api(app.url, lister.key, 'GET', `/api/v1/products/${id}/repository/choices`);
    expect(first.json.repositories).toEqual([...fake.repositories].sort());
    const pages = Math.ceil(fake.repositories.length / 2);
    expect(fake.count('GET', '/gh/api/user/repos') - before).toBe(pages);
    const second = await api(app.url, lister.key, 'GET', `/api/v1/products/${id}/repository/choices`);
    expect(second.json).toEqual({ repositories: first.json.repositories, from_cache: true });
    expect(fake.count('GET', '/gh/api/user/repos') - before).toBe(pages);
    // Refresh: one conditional request; unchanged → 304, the list is kept.
    const refreshed = await api(app.url, lister.key, 'GET', `/api/v1/products/${id}/repository/choices?refresh=1`);
    expect(refreshed.json.repositories).toEqual(first.json.repositories);
    expect(fake.requests.filter((r) => r.path === '/gh/api/user/repos').at(-1)!.status).toBe(304);
    // A new repository: Refresh shows it.
    fake.repositories.push('acme/brand-new');
    const again = await api(app.url, lister.key, 'GET', `/api/v1/products/${id}/repository/choices?refresh=1`);
    expect(again.json.repositories).toContain('acme/brand-new');
    const page = await lister.web.get(`/products/${id}/builds`);
    expect(page.text).toContain('acme/brand-new');
  }, 60_000);

  test('API: hook_created is false when the token cannot make hooks; DELETE disconnects; another vendor gets 404', async () => {
    const id = await product('acme-manual');
    fake.repositories.push('acme/acme-manual');
    fake.refuseHooks = true;
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-manual', token: fake.token });
    fake.refuseHooks = false;
    expect(put.json.hook_created).toBe(false);
    const del = await api(app.url, vendor.key, 'DELETE', `/api/v1/products/${id}/repository`);
    expect(del.status).toBe(204);
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${id}/repository`)).status).toBe(404);
    // Another vendor sees none of it.
    const other = await newVendor(app, 'other');
    const first = (await api(app.url, vendor.key, 'GET', '/api/v1/products')).json.products[0].id;
    expect((await api(app.url, other.key, 'GET', `/api/v1/products/${first}/repository`)).status).toBe(404);
    expect((await api(app.url, other.key, 'GET', `/api/v1/products/${first}/builds`)).status).toBe(404);
  }, 60_000);

  test('dashboard form: connect with a pasted token (CSRF-protected); a token that cannot make hooks shows URL and secret once', async () => {
    const id = await product('acme-form');
    fake.repositories.push('acme/acme-form');
    const page = await vendor.web.get(`/products/${id}/builds`);
    expect(page.status).toBe(200);
    const forged = await vendor.web.post(`/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-form', token: fake.token }, { csrf: false });
    expect(forged.status).toBe(403);
    const bad = await vendor.web.post(`/products/${id}/repository`, { provider: 'github', repository: 'not a repo', token: fake.token, rule_kind: 'tags', rule_value: 'v*' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Give the repository as owner/name.');
    expect(bad.text).not.toContain(fake.token);
    fake.refuseHooks = true;
    const ok = await vendor.web.post(`/products/${id}/repository`, { provider: 'github', repository: 'acme/acme-form', token: fake.token, rule_kind: 'tags', rule_value: 'v*' });
    fake.refuseHooks = false;
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('The token cannot create webhooks');
    const secret = /id="webhook-secret">([^<]+)</.exec(ok.text)![1]!;
    expect(/id="webhook-url">([^<]+)</.exec(ok.text)![1]).toBe(`${app.url}/api/v1/webhooks/git/${id}`);
    expect(ok.text).not.toContain(fake.token);
    // The secret is shown that once; pushes signed with it build.
    const later = await vendor.web.get(`/products/${id}/builds`);
    expect(later.text).not.toContain(secret);
    expect(later.text).toContain('acme/acme-form');
    const sha = fake.commit(pluginFiles('acme-form', '0.9.0'));
    expect((await post(id, githubPush(secret, 'refs/tags/v0.9.0', sha))).status).toBe(202);
    const [b] = await finished(id);
    expect(b.status).toBe('live');
  }, 120_000);

  test('branch rule: a push that changes Version: releases it; a push that does not is skipped', async () => {
    const id = await product('acme-branch');
    fake.repositories.push('acme/acme-branch');
    const put = await api(app.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'bitbucket', repository: 'acme/acme-branch', token: fake.token, rule: { branch: 'main' } });
    expect(put.json.rule).toEqual({ branch: 'main' });
    const first = fake.commit(pluginFiles('acme-branch', '1.0.0'));
    expect((await post(id, bitbucketPush(put.json.webhook_secret, 'branch', 'main', first))).status).toBe(202);
    await finished(id, 1);
    // Another branch and a tag are not what the rule names.
    const ignored = await post(id, bitbucketPush(put.json.webhook_secret, 'branch', 'develop', first));
    expect(ignored).toMatchObject({ status: 200, json: { ignored: expect.any(String) } });
    const same = fake.commit(pluginFiles('acme-branch', '1.0.0', { 'notes.txt': 'typo fix' }));
    await post(id, bitbucketPush(put.json.webhook_secret, 'branch', 'main', same));
    const list = await finished(id, 2);
    expect(list.map((b) => [b.commit, b.status, b.version])).toEqual([[same, 'skipped', null], [first, 'live', '1.0.0']]);
    expect(list[0].reasons).toEqual(['Version 1.0.0 is already released; nothing to build.']);
  }, 120_000);

  test('a build whose job ended without ending it (last attempt\'s server died) is failed by the sweep, once', async () => {
    const id = await product('acme-abandoned');
    const db = app.runtime.database.db;
    const buildId = require('node:crypto').randomUUID();
    const vanished = require('node:crypto').randomUUID();
    await db.execute(sql`insert into builds (id, product_id, provider, repository, ref, commit_sha, status, job_id, created_at)
      values (${buildId}, ${id}, 'github', 'acme/x', 'refs/tags/v1.0.0', ${'c'.repeat(40)}, 'building', ${vanished}, now() - interval '10 minutes')`);
    // A recent one is left alone (its job may not be visible yet).
    await db.execute(sql`insert into builds (id, product_id, provider, repository, ref, commit_sha, status, job_id)
      values (${require('node:crypto').randomUUID()}, ${id}, 'github', 'acme/x', 'refs/tags/v1.0.1', ${'d'.repeat(40)}, 'queued', ${vanished})`);
    expect(await app.runtime.services.builds.sweepAbandoned()).toBe(1);
    expect(await app.runtime.services.builds.sweepAbandoned()).toBe(0);
    const list = await builds(id);
    expect(list.map((b) => [b.ref, b.status])).toEqual(expect.arrayContaining([['refs/tags/v1.0.0', 'failed'], ['refs/tags/v1.0.1', 'queued']]));
    expect(list.find((b) => b.status === 'failed').reasons[0]).toMatch(/stopped without finishing/);
    const events = await db.execute(sql`select type from events where product_id = ${id}`);
    expect((((events as any).rows ?? events) as any[]).map((e) => e.type)).toEqual(['build.failed']);
  });

  test('the token never appears in logs or pages after it is saved', async () => {
    const ids = (await api(app.url, vendor.key, 'GET', '/api/v1/products')).json.products.map((p: any) => p.id);
    for (const id of ids) {
      for (const path of [`/products/${id}`, `/products/${id}/builds`]) {
        const page = await vendor.web.get(path);
        expect(page.text).not.toContain(fake.token);
      }
    }
    const rows = await app.runtime.database.db.execute(sql`select token_enc from repository_connections`);
    for (const r of ((rows as any).rows ?? rows) as any[]) expect(r.token_enc).not.toContain(fake.token);
    expect(logs.join('')).not.toContain(fake.token);
    expect(logs.length).toBeGreaterThan(10);
  });
});
