import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { FakeGit } from '../../support/fake-git';
import { newVendor } from '../../support/fixtures';
import { startMemcached, type MemcachedProcess } from '../../support/memcached';

/**
 * The repository list is cached in memcached, shared by every app server: two servers on one
 * PostgreSQL database and one real memcached; the second server's first load costs the
 * provider nothing. Without memcached (it stopped), each server still answers from its own cache.
 */
test('two app servers share the cached repository list through a real memcached; with memcached gone, the list is still served', async () => {
  const fake = new FakeGit();
  await fake.start();
  fake.repositories = ['acme/one', 'acme/two', 'acme/three'];
  const memcached: MemcachedProcess = await startMemcached();
  const env = { ...fake.env(), MEMCACHED_SERVERS: `127.0.0.1:${memcached.port}` };
  let first: TestApp | undefined;
  let second: TestApp | undefined;
  try {
    first = await startTestApp({ db: 'postgres', env });
    second = await startTestApp({ db: 'pglite', env: { ...env, DATABASE_URL: first.config.database.url! } });
    const vendor = await newVendor(first, 'shared-cache');
    const made = await api(first.url, vendor.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'acme-one', name: 'Acme one', free: true });
    const id: string = made.json.id;
    await api(first.url, vendor.key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'acme/one', token: fake.token });

    const before = fake.count('GET', '/gh/api/user/repos');
    const fromProvider = await api(first.url, vendor.key, 'GET', `/api/v1/products/${id}/repository/choices`);
    expect(fromProvider.json.repositories).toEqual(['acme/one', 'acme/three', 'acme/two']);
    const asked = fake.count('GET', '/gh/api/user/repos') - before;
    expect(asked).toBeGreaterThan(0);

    // The other server has never loaded it: memcached answers, the provider is not asked.
    const fromMemcached = await api(second.url, vendor.key, 'GET', `/api/v1/products/${id}/repository/choices`);
    expect(fromMemcached.json).toEqual({ repositories: fromProvider.json.repositories, from_cache: true });
    expect(fake.count('GET', '/gh/api/user/repos') - before).toBe(asked);

    // memcached is optional: stopped, the servers still answer (from their own cache, or the provider).
    await memcached.stop();
    const without = await api(second.url, vendor.key, 'GET', `/api/v1/products/${id}/repository/choices`);
    expect(without.status).toBe(200);
    expect(without.json.repositories).toEqual(fromProvider.json.repositories);
  } finally {
    await second?.stop();
    await first?.stop();
    await memcached.stop().catch(() => undefined);
    await fake.stop();
  }
}, 120_000);
