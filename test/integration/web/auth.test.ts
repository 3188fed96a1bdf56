import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sessions } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { seedPglite } from '../../support/pglite-template';
import { createTestDatabase } from '../../support/postgres';
import { WebClient } from '../../support/web-client';

describe.each(DB_KINDS)('sign up, sign in, sign out (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('a vendor signs up, lands on their products, signs out, and signs in again', async () => {
    const web = new WebClient(app.url);
    const signup = await web.signUp('alice@example.com');
    expect(signup.location).toBe('/products');
    const cookie = signup.headers.getSetCookie().find((c) => c.startsWith('wharf_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i); // plain HTTP here; Secure is tested behind TLS below

    const products = await web.get('/products');
    expect(products.status).toBe(200);
    expect(products.text).toContain('alice@example.com');

    await web.post('/logout');
    expect((await web.get('/products')).location).toBe('/login?next=%2Fproducts');

    await web.get('/login');
    const bad = await web.post('/login', { email: 'alice@example.com', password: 'not the password' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Wrong email or password.');
    expect(bad.text).toContain('value="alice@example.com"');

    const ok = await web.post('/login', { email: 'ALICE@example.com', password: 'correct horse battery staple' });
    expect(ok.status).toBe(302);
    expect((await web.get('/products')).status).toBe(200);
  });

  test('sign-up validation re-renders the form with the input and a message per field', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const res = await web.post('/signup', { email: 'not-an-email', password: 'short' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Enter a valid email address.');
    expect(res.text).toContain('Use at least 10 characters.');
    expect(res.text).toContain('value="not-an-email"');

    await new WebClient(app.url).signUp('taken@example.com');
    const again = new WebClient(app.url);
    await again.get('/signup');
    const dup = await again.post('/signup', { email: 'Taken@Example.com', password: 'another long password' });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('already registered');
  });

  test('a form without its CSRF token is refused with 403 and changes nothing', async () => {
    const web = new WebClient(app.url);
    await web.get('/signup');
    const res = await web.post('/signup', { email: 'csrf@example.com', password: 'long enough password' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(res.text).toContain('did not come from Wharf');
    await web.get('/login');
    const login = await web.post('/login', { email: 'csrf@example.com', password: 'long enough password' });
    expect(login.status).toBe(422); // the account was never created

    const forged = new WebClient(app.url);
    await forged.get('/signup');
    forged.csrf = web.csrf; // a token bound to someone else's browser
    expect((await forged.post('/signup', { email: 'csrf2@example.com', password: 'long enough password' })).status).toBe(403);
  });

  test('cookies are Secure when the request came over TLS through the proxy', async () => {
    const proxied = await startTestApp({ db: 'pglite', env: { TRUST_PROXY: '1' } });
    try {
      const web = new WebClient(proxied.url);
      await web.get('/signup');
      const res = await web.request('POST', '/signup', {
        body: new URLSearchParams({ _csrf: web.csrf, email: 'tls@example.com', password: 'correct horse battery staple' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      });
      expect(res.headers.getSetCookie().find((c) => c.startsWith('wharf_session='))).toMatch(/;\s*Secure/i);
    } finally {
      await proxied.stop();
    }
  });
});

test.each(DB_KINDS)('sessions live in the database (%s): a restarted server keeps the vendor signed in', async (kind) => {
  // The same database across both servers: a server database, or one PGlite directory.
  const db = kind === 'postgres' ? await createTestDatabase() : undefined;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-restart-'));
  if (!db) await seedPglite(path.join(dataDir, 'pglite'));
  const env: Record<string, string> = db ? { DATABASE_URL: db.url } : { DATA_DIR: dataDir };
  const first = await startTestApp({ env });
  const web = new WebClient(first.url);
  await web.signUp('restart@example.com');
  await first.stop();
  const second = await startTestApp({ env });
  try {
    const moved = new WebClient(second.url);
    (moved as any).cookies = (web as any).cookies;
    const res = await moved.get('/products');
    expect(res.status).toBe(200);
    expect(res.text).toContain('restart@example.com');
  } finally {
    await second.stop();
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('expired sessions are refused and purged from the database', async () => {
  const app = await startTestApp();
  try {
    const { users, sessions: live } = app.runtime.services;
    const user = await users.signUp('old-session@example.com', 'correct horse battery staple');
    const stale = await live.create(user.id, new Date(Date.now() - 31 * 86400_000));
    const fresh = await live.create(user.id);
    expect(await live.resolve(stale)).toBeNull();
    await live.purgeExpired();
    const rows = await app.runtime.database.db.select().from(sessions);
    expect(rows).toHaveLength(1);
    expect((await live.resolve(fresh))?.email).toBe('old-session@example.com');
  } finally {
    await app.stop();
  }
});
