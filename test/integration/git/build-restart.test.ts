import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, createApiKey } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { FakeGit, githubPush } from '../../support/fake-git';
import { seedPglite } from '../../support/pglite-template';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { buildOnce, exited, listeningUrl, startServer, stopServer, type ServerProcess } from '../../support/server-process';
import { WebClient } from '../../support/web-client';
import { phpWithHeaders } from '../../support/zip-builder';

/**
 * A build whose app server is killed (kill -9) mid-download completes after a restart, once: the
 * job lives in PostgreSQL, its heartbeat lapses, and the next server retries it.
 */
beforeAll(buildOnce, 300_000);

describe.each(DB_KINDS)('a build survives its server dying (%s)', (kind) => {
  let fake: FakeGit;
  let dataDir: string;
  let testDb: TestDatabase | undefined;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    fake = new FakeGit();
    await fake.start();
    fake.repositories = ['acme/sturdy'];
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-git-restart-'));
    // The fresh-directory start is covered by the embedded-database suite; here a migrated copy saves seconds.
    if (kind === 'postgres') testDb = await createTestDatabase();
    else await seedPglite(path.join(dataDir, 'pglite'));
  });
  afterAll(async () => {
    await stopServer(server);
    await fake.stop();
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    ...fake.env(),
    PORT: '0',
    EMBEDDED_S3_PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    SECRET_KEY: 'restart-test-secret-key-0123456789abcdef',
    ...(testDb ? { DATABASE_URL: testDb.url } : {}),
  });

  test('kill -9 while the archive downloads; after restart the build completes once', async () => {
    server = startServer(env());
    let base = await listeningUrl(server);
    const web = new WebClient(base);
    await web.signUp(`git-restart-${Date.now()}@example.com`);
    const key = await createApiKey(web);
    const created = await api(base, key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'sturdy', name: 'Sturdy', free: true });
    const id: string = created.json.id;
    const put = await api(base, key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/sturdy', token: fake.token, rule: { tags: 'v*' } });
    expect(put.json.hook_created).toBe(true);
    const sha = fake.commit({ 'sturdy.php': phpWithHeaders({ 'Plugin Name': 'Sturdy', Version: '4.0.0' }, "defined('ABSPATH') || exit;\n") });

    fake.hangArchives = true;
    const push = githubPush(put.json.webhook_secret, 'refs/tags/v4.0.0', sha);
    const accepted = await fetch(`${base}/api/v1/webhooks/git/${id}`, { method: 'POST', body: push.body, headers: push.headers });
    expect(accepted.status).toBe(202);
    for (const end = Date.now() + 60_000; !fake.requests.some((r) => r.path.includes('/zipball/') && r.status === 0); ) {
      if (Date.now() > end) throw new Error(`the build never started:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const dying = exited(server.child);
    server.child.kill('SIGKILL');
    await dying;
    fake.hangArchives = false;

    server = startServer(env());
    base = await listeningUrl(server);
    const started = Date.now();
    let builds: any[] = [];
    for (const end = Date.now() + 240_000; ; ) {
      builds = (await api(base, key, 'GET', `/api/v1/products/${id}/builds`)).json.builds;
      if (builds[0] && !['queued', 'building'].includes(builds[0].status)) break;
      if (Date.now() > end) throw new Error(`the build did not finish after the restart: ${JSON.stringify(builds)}\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`build finished ${((Date.now() - started) / 1000).toFixed(1)} s after the restart`);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({ status: 'live', version: '4.0.0', attempts: 2 });
    await new Promise((r) => setTimeout(r, 3000));
    const versions = (await api(base, key, 'GET', `/api/v1/products/${id}/versions`)).json.versions;
    expect(versions.map((v: any) => [v.version, v.status, v.live])).toEqual([['4.0.0', 'ready', true]]);
    expect(fake.statuses.filter((s) => s.sha === sha && s.state === 'success')).toHaveLength(1);
    const check = await fetch(`${base}/api/v1/updates/${id}?installed_version=3.0`);
    expect(((await check.json()) as { version: string }).version).toBe('4.0.0');
    expect(server.output()).not.toContain(fake.token);
  }, 420_000);
});
