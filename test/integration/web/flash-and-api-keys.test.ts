import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { WebClient } from '../../support/web-client';

/** Post/redirect/get with one-time session flash messages: nothing repeats on reload, nothing is re-posted. */

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe.each(DB_KINDS)('flash messages and API keys (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('creating an API key redirects; the key is shown once, a reload shows and creates nothing', async () => {
    const web = new WebClient(app.url);
    await web.signUp('keys@example.com');
    await web.get('/account');
    const made = await web.post('/account/api-keys', { name: 'CI release job' });
    expect(made.status).toBe(303);
    expect(made.location).toBe('/account');
    expect(made.text).not.toMatch(/wharf_[A-Za-z0-9]{8}_/);

    const shown = await web.get('/account');
    const key = /<code id="new-api-key">(wharf_[^<]+)<\/code>/.exec(shown.text)?.[1];
    expect(key).toBeDefined();
    expect(shown.text).toContain('API key “CI release job” created');
    expect(shown.text).toContain('<label for="key-name">Key name</label>');
    // The key works on the API.
    const api = await fetch(`${app.url}/api/v1/products`, { headers: { authorization: `Bearer ${key}` } });
    expect(api.status).toBe(200);

    const reload = await web.get('/account');
    expect(reload.text).not.toContain(key!);
    expect(reload.text).not.toContain('created. Copy it now');
    expect(count(reload.text, 'data-key-id=')).toBe(1); // one key, not two

    // The flash is sealed: another browser replaying the cookie gets nothing.
    const other = new WebClient(app.url);
    await other.signUp('keys-other@example.com');
    await other.get('/account');
    await other.post('/account/api-keys', { name: 'theirs' });
    const cookieHeader = (other as unknown as { cookies: Map<string, string> }).cookies.get('wharf_flash')!;
    (web as unknown as { cookies: Map<string, string> }).cookies.set('wharf_flash', cookieHeader);
    const replay = await web.get('/account');
    expect(replay.text).not.toContain('new-api-key');
    expect(replay.text).not.toContain('“theirs” created');
  });

  test('revoking asks first (data-confirm), says so once, and hides the key unless revoked keys are shown', async () => {
    const web = new WebClient(app.url);
    await web.signUp('revoke@example.com');
    await web.get('/account');
    await web.post('/account/api-keys', { name: 'old laptop' });
    const page = await web.get('/account');
    const id = /data-key-id="([^"]+)"/.exec(page.text)![1]!;
    expect(page.text).toContain('data-confirm="Revoke the API key “old laptop”?');

    const revoked = await web.post(`/account/api-keys/${id}/revoke`);
    expect(revoked.status).toBe(303);
    const after = await web.get('/account');
    expect(after.text).toContain('API key “old laptop” revoked.');
    expect(after.text).not.toContain(`data-key-id="${id}"`);
    expect(after.text).toContain('Show revoked keys (1)');
    expect((await web.get('/account')).text).not.toContain('revoked. Requests');

    const all = await web.get('/account?revoked=1');
    expect(all.text).toContain(`data-key-id="${id}"`);
    expect(all.text).toContain('Hide revoked keys');
  });

  test('sign-out says "Signed out." once; a wrong password is said once', async () => {
    const web = new WebClient(app.url);
    await web.signUp('flash@example.com');
    await web.get('/products');
    const out = await web.post('/logout');
    expect(out.status).toBe(303);
    expect(out.location).toBe('/login');
    const login = await web.get('/login');
    expect(login.text).toContain('Signed out.');
    expect((await web.get('/login')).text).not.toContain('Signed out.');

    const bad = await web.post('/login', { email: 'flash@example.com', password: 'not the password' });
    expect(bad.status).toBe(422);
    expect(count(bad.text, 'Wrong email or password.')).toBe(1);
    expect(bad.text).toContain('id="error-summary"');
  });

  test('product, release and code notices come from the flash, not the URL', async () => {
    const web = new WebClient(app.url);
    await web.signUp('notices@example.com');
    await web.get('/products/new');
    const made = await web.post('/products', { name: 'Flash Plugin', slug: 'flash-plugin', type: 'plugin' });
    expect(made.status).toBe(302);
    expect(made.location).toMatch(/^\/products\/[0-9a-f-]{36}$/);
    const page = await web.get(made.location!);
    expect(page.text).toContain('Product created.');
    expect((await web.get(made.location!)).text).not.toContain('Product created.');
    // An old shared link with ?notice= shows nothing.
    expect((await web.get(`${made.location}?notice=saved`)).text).not.toContain('Changes saved.');

    const codes = await web.post(`${made.location}/codes`, { count: '1' });
    expect(codes.status).toBe(303);
    await web.get(codes.location!);
    const revoke = await web.post(`${codes.location}/revoke`);
    expect(revoke.location).toBe(codes.location);
    expect((await web.get(codes.location!)).text).toContain('Code revoked.');
    expect((await web.get(codes.location!)).text).not.toContain('Code revoked.');
  });
});
