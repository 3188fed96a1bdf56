import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { api, createApiKey } from '../../support/api-client';
import { WebClient } from '../../support/web-client';

describe.each(DB_KINDS)('products (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('create, show, edit and delete a plugin in the dashboard', async () => {
    const web = new WebClient(app.url);
    await web.signUp(`crud-${db}@example.com`);
    await web.get('/products/new');
    const created = await web.post('/products', { type: 'plugin', slug: 'acme-forms', name: 'Acme Forms', homepage: 'https://acme.test/forms', author: 'Acme', description: 'Forms that **work**.' });
    expect(created.status).toBe(302);
    const id = /\/products\/([0-9a-f-]{36})/.exec(created.location!)![1]!;

    const show = await web.get(`/products/${id}`);
    expect(show.text).toContain('Acme Forms');
    expect(show.text).toContain(`/api/v1/updates/${id}`);

    await web.get(`/products/${id}/edit`);
    const edited = await web.post(`/products/${id}/edit`, { name: 'Acme Forms Pro', homepage: 'https://acme.test', author: 'Acme', free: 'on', description: 'New text', installation: '', changelog: '' });
    expect(edited.status).toBe(302);
    const list = await web.get('/products');
    expect(list.text).toContain('Acme Forms Pro');

    const invalid = await web.post(`/products/${id}/edit`, { name: '', homepage: 'ftp://nope' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('Enter a name.');
    expect(invalid.text).toContain('Enter a full http:// or https:// address.');
    expect(invalid.text).toContain('value="ftp://nope"');

    expect((await web.post(`/products/${id}/delete`)).status).toBe(302);
    expect((await web.get(`/products/${id}`)).status).toBe(404);
  });

  test('slug rules and duplicate slugs are explained next to the field', async () => {
    const web = new WebClient(app.url);
    await web.signUp(`slugs-${db}@example.com`);
    await web.get('/products/new');
    const bad = await web.post('/products', { type: 'plugin', slug: '../Evil', name: 'Evil' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('folder name inside the zip');
    await web.post('/products', { type: 'theme', slug: 'twenty', name: 'Twenty' });
    const dup = await web.post('/products', { type: 'theme', slug: 'twenty', name: 'Twenty again' });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('You already have a theme with the slug');
  });

  test("a vendor gets 404 on every page and API route of another vendor's product", async () => {
    const alice = new WebClient(app.url);
    await alice.signUp(`alice-${db}@example.com`);
    await alice.get('/products/new');
    const created = await alice.post('/products', { type: 'plugin', slug: 'secret-plugin', name: 'Secret Plugin' });
    const id = /\/products\/([0-9a-f-]{36})/.exec(created.location!)![1]!;

    const bob = new WebClient(app.url);
    await bob.signUp(`bob-${db}@example.com`);
    await bob.get('/products');
    for (const path of [`/products/${id}`, `/products/${id}/edit`, `/products/${id}/releases/new`, `/products/${id}/client`, `/products/${id}/versions/00000000-0000-4000-8000-000000000000/status`, `/products/${id}/uploads/00000000-0000-4000-8000-000000000000/complete`]) {
      const res = await bob.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.text).not.toContain('Secret Plugin');
    }
    const fakeVersion = '00000000-0000-4000-8000-000000000000';
    for (const path of [`/products/${id}/edit`, `/products/${id}/delete`, `/products/${id}/releases/new`, `/products/${id}/uploads`, `/products/${id}/uploads/${fakeVersion}/finalize`, `/products/${id}/versions/${fakeVersion}/live`, `/products/${id}/versions/${fakeVersion}/delete`]) {
      const res = await bob.post(path, { name: 'Hijacked' });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    expect((await bob.get('/products')).text).not.toContain('Secret Plugin');

    const bobKey = await createApiKey(bob);
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/v1/products/${id}`],
      ['PATCH', `/api/v1/products/${id}`, { name: 'Hijacked' }],
      ['DELETE', `/api/v1/products/${id}`],
      ['POST', `/api/v1/products/${id}/uploads`],
      ['POST', `/api/v1/products/${id}/versions`, { key: `vendors/x/products/${id}/releases/y.zip` }],
      ['GET', `/api/v1/products/${id}/versions`],
      ['GET', `/api/v1/products/${id}/versions/1.0`],
      ['POST', `/api/v1/products/${id}/versions/1.0/live`],
      ['DELETE', `/api/v1/products/${id}/versions/1.0`],
    ];
    for (const [method, path, body] of calls) {
      const res = await api(app.url, bobKey, method, path, body);
      expect({ method, path, status: res.status, code: res.json?.error?.code }).toEqual({ method, path, status: 404, code: 'not_found' });
    }
    const bobList = await api(app.url, bobKey, 'GET', '/api/v1/products');
    expect(bobList.json.products).toEqual([]);

    // Alice's product is untouched.
    const aliceKey = await createApiKey(alice);
    const mine = await api(app.url, aliceKey, 'GET', `/api/v1/products/${id}`);
    expect(mine.status).toBe(200);
    expect(mine.json.name).toBe('Secret Plugin');
  });

  test('the vendor API creates, lists, updates and deletes products with JSON errors', async () => {
    const web = new WebClient(app.url);
    await web.signUp(`api-${db}@example.com`);
    const key = await createApiKey(web);

    expect((await api(app.url, null, 'GET', '/api/v1/products')).status).toBe(401);
    expect((await api(app.url, 'wharf_abcdefgh_' + 'x'.repeat(43), 'GET', '/api/v1/products')).json.error.code).toBe('unauthorized');

    const created = await api(app.url, key, 'POST', '/api/v1/products', { type: 'theme', name: 'Harbor', slug: 'harbor' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ type: 'theme', slug: 'harbor', name: 'Harbor' });
    const patched = await api(app.url, key, 'PATCH', `/api/v1/products/${created.json.id}`, { homepage: 'https://harbor.test' });
    expect(patched.json).toMatchObject({ name: 'Harbor', homepage: 'https://harbor.test' });

    const bad = await api(app.url, key, 'POST', '/api/v1/products', { type: 'widget', name: 42 });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.error.fields).sort()).toEqual(['name', 'slug', 'type']);
    expect((await api(app.url, key, 'POST', '/api/v1/products', '{not json')).status).toBe(400);
    expect((await api(app.url, key, 'POST', '/api/v1/products', { name: 'x'.repeat(1_100_000) })).status).toBe(413);
    expect((await api(app.url, key, 'GET', '/api/v1/products/not-a-uuid')).status).toBe(404);
    expect((await api(app.url, key, 'GET', '/api/v1/nothing-here')).json.error.code).toBe('not_found');
    expect((await api(app.url, key, 'GET', '/api/v1/products')).json.products).toHaveLength(1);

    expect((await api(app.url, key, 'DELETE', `/api/v1/products/${created.json.id}`)).status).toBe(204);
    expect((await api(app.url, key, 'GET', '/api/v1/products')).json.products).toHaveLength(0);

    // Keys are revocable from the Account page; a revoked key stops working at once.
    const account = await web.get('/account');
    const revoke = /action="(\/account\/api-keys\/[0-9a-f-]{36}\/revoke)"/.exec(account.text)![1]!;
    expect((await web.post(revoke)).status).toBe(303);
    expect((await api(app.url, key, 'GET', '/api/v1/products')).status).toBe(401);
    expect((await web.get('/account')).text).toContain('revoked');
  });

  test('the product page hands out the PHP client holding the product id and the server URL', async () => {
    const web = new WebClient(app.url);
    await web.signUp(`client-${db}@example.com`);
    await web.get('/products/new');
    const created = await web.post('/products', { type: 'theme', slug: 'client-theme', name: 'Client Theme' });
    const id = /\/products\/([0-9a-f-]{36})/.exec(created.location!)![1]!;
    const page = await web.get(`/products/${id}`);
    expect(page.text).toContain('theme_update_check.php');
    expect(page.text).toContain('ThemeUpdateChecker');
    const file = await web.get(`/products/${id}/client`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toMatch(/attachment; filename="?theme_update_check\.php"?/);
    expect(file.text).toContain(id);
    expect(file.text).toContain(app.url);
    expect(file.text).not.toContain('{{WHARF_');
  });
});
