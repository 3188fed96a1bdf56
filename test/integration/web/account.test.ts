import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { accountTokens, users } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { startSmtp, type TestSmtp } from '../../support/smtp';
import { pluginZip, postToS3 } from '../../support/releases';
import { WebClient } from '../../support/web-client';

/** The vendor's own account: forgotten password by e-mail (a real SMTP server), password, address, providers, deletion. */

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'velvet quarry lantern 1849';
const cookiesOf = (w: WebClient) => (w as unknown as { cookies: Map<string, string> }).cookies;

function linkIn(mail: { text: string }, path: string): string {
  const m = new RegExp(`https?://[^\\s]+${path.replace(/[/?]/g, '\\$&')}\\?token=[A-Za-z0-9_-]+`).exec(mail.text);
  if (!m) throw new Error(`no ${path} link in:\n${mail.text}`);
  return m[0];
}

describe.each(DB_KINDS)('the account (%s)', (db) => {
  let app: TestApp;
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ db, env: { SMTP_URL: smtp.url, MAIL_FROM: 'Wharf <wharf@test.example>' } });
  });
  afterAll(async () => {
    await app.stop();
    await smtp.close();
  });

  test('forgot password: the same answer for any address; the newest link works once, within the hour, and signs out every session', async () => {
    const owner = new WebClient(app.url);
    await owner.signUp('forgetful@example.com', PASSWORD);
    const elsewhere = new WebClient(app.url);
    await elsewhere.get('/login');
    await elsewhere.post('/login', { email: 'forgetful@example.com', password: PASSWORD });
    expect((await elsewhere.get('/products')).status).toBe(200);

    const anon = new WebClient(app.url);
    const ask = async (email: string) => {
      await anon.get('/password/forgot');
      const res = await anon.post('/password/forgot', { email });
      expect(res.status).toBe(303);
      return (await anon.get(res.location!)).text;
    };
    const unknown = await ask('nobody-here@example.com');
    const known = await ask('Forgetful@Example.com');
    const said = (html: string) => /<div class="alert ok"[^>]*>([^<]+)</.exec(html)![1];
    expect(said(unknown)).toBe(said(known));
    expect(said(known)).toContain('If an account uses that address');

    const first = await smtp.next('forgetful@example.com');
    expect(first.raw).toMatch(/^From: Wharf <wharf@test\.example>/m);
    expect(first.raw).toMatch(/^Subject: Choose a new Wharf password/m);
    const firstLink = linkIn(first, '/password/reset');
    await ask('forgetful@example.com');
    const second = linkIn(await smtp.next('forgetful@example.com'), '/password/reset');
    expect(smtp.mails.some((m) => m.to.includes('nobody-here@example.com'))).toBe(false);

    // The older link died when the newer was made.
    expect((await anon.get(new URL(firstLink).pathname + new URL(firstLink).search)).status).toBe(410);
    const path = new URL(second).pathname + new URL(second).search;
    const form = await anon.get(path);
    expect(form.status).toBe(200);
    const token = new URL(second).searchParams.get('token')!;
    const weak = await anon.post('/password/reset', { token, password: 'password' });
    expect(weak.status).toBe(422); // a weak try does not burn the link
    const done = await anon.post('/password/reset', { token, password: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect((await anon.get('/products')).status).toBe(200); // signed in by the reset
    expect((await anon.post('/password/reset', { token, password: NEW_PASSWORD })).status).toBe(422); // single use
    expect((await anon.get(path)).status).toBe(410);

    expect((await owner.get('/products')).status).toBe(302); // every other session signed out
    expect((await elsewhere.get('/products')).status).toBe(302);
    await owner.get('/login');
    expect((await owner.post('/login', { email: 'forgetful@example.com', password: NEW_PASSWORD })).status).toBe(302);

    // A link past its hour is refused.
    await ask('forgetful@example.com');
    const late = new URL(linkIn(await smtp.next('forgetful@example.com'), '/password/reset'));
    await app.runtime.database.db.update(accountTokens).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await anon.get(late.pathname + late.search)).status).toBe(410);
  });

  test('change password: the current one is required, other sessions are signed out, this one stays', async () => {
    const me = new WebClient(app.url);
    await me.signUp('changer@example.com', PASSWORD);
    const other = new WebClient(app.url);
    await other.get('/login');
    await other.post('/login', { email: 'changer@example.com', password: PASSWORD });
    await me.get('/account');
    const wrong = await me.post('/account/password', { current: 'not it at all', password: NEW_PASSWORD });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('That is not your current password.');
    const ok = await me.post('/account/password', { current: PASSWORD, password: NEW_PASSWORD });
    expect(ok.status).toBe(303);
    expect((await me.get('/account')).text).toContain('Password saved.');
    expect((await other.get('/products')).status).toBe(302);
  });

  test('change e-mail: a confirmation link goes to the new address; the address changes only when it is opened', async () => {
    const me = new WebClient(app.url);
    await me.signUp('old-address@example.com', PASSWORD);
    await me.get('/account');
    expect((await me.post('/account/email', { email: 'new-address@example.com', current: 'wrong password!' })).status).toBe(422);
    const asked = await me.post('/account/email', { email: 'new-address@example.com', current: PASSWORD });
    expect(asked.status).toBe(303);
    expect((await me.get('/account')).text).toContain('A confirmation link is on its way to new-address@example.com');
    const mail = await smtp.next('new-address@example.com');
    expect(mail.to).toEqual(['new-address@example.com']);
    expect((await me.get('/account')).text).toContain('old-address@example.com');
    const link = new URL(linkIn(mail, '/account/email/confirm'));
    const confirmed = await me.get(link.pathname + link.search);
    expect(confirmed.status).toBe(303);
    expect((await me.get('/account')).text).toContain('Your address is now new-address@example.com.');
    expect((await me.get(link.pathname + link.search)).status).toBe(404); // single use
    const again = new WebClient(app.url);
    await again.get('/login');
    expect((await again.post('/login', { email: 'new-address@example.com', password: PASSWORD })).status).toBe(302);
  });

  test('an account made through GitHub sets a password, and only then may unlink GitHub', async () => {
    const [row] = await app.runtime.database.db.insert(users).values({ email: 'octo@example.com', passwordHash: null, githubId: '4242' }).returning();
    const web = new WebClient(app.url);
    cookiesOf(web).set('wharf_session', await app.runtime.services.sessions.create(row!.id));
    const page = await web.get('/account');
    expect(page.text).toContain('Set a password');
    expect(page.text).not.toContain('id="password-current"');
    expect((await web.post('/account/unlink/github')).status).toBe(409); // it is the only way in
    expect((await web.post('/account/password', { password: NEW_PASSWORD })).status).toBe(303);
    await web.get('/account');
    expect((await web.post('/account/unlink/github')).status).toBe(303);
    const after = await app.runtime.database.db.select().from(users).where(eq(users.id, row!.id));
    expect(after[0]!.githubId).toBeNull();
    const signIn = new WebClient(app.url);
    await signIn.get('/login');
    expect((await signIn.post('/login', { email: 'octo@example.com', password: NEW_PASSWORD })).status).toBe(302);
  });

  test('deleting an account (typing the e-mail) removes every row and S3 object of that vendor and nothing of another', async () => {
    const db2 = app.runtime.database.db;
    const make = async (name: string): Promise<{ v: Vendor; id: string; email: string; productId: string }> => {
      const v = await newVendor(app, name);
      const p = await productWithReleases(app, v, { slug: `${name}-plugin`, versions: ['1.0', '1.1'] });
      const [code] = await createCodes(app, v, p.id, { count: 2, maxSites: 2 });
      const check = await updateCheck(app, p.id, { license: code!, installed_version: '1.0' }, { 'user-agent': 'WordPress/6.4; https://shop.example.com' });
      await fetch(check.json.download_url, { redirect: 'manual' });
      await fetch(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: p.id, license: code, domain: 'https://shop.example.com' }) });
      // An upload sent to S3 and never finalized: an object only the vendor prefix names.
      const slot = await api(app.url, v.key, 'POST', `/api/v1/products/${p.id}/uploads`);
      expect((await postToS3(slot.json, pluginZip(`${name}-plugin`, '9.9'))).status).toBe(204);
      const email = /Sign out \(([^)]+)\)/.exec((await v.web.get('/account')).text)![1]!;
      const [u] = await db2.select().from(users).where(eq(users.email, email));
      return { v, id: u!.id, email, productId: p.id };
    };
    const alice = await make('alice');
    const bob = await make('bob');
    await app.runtime.services.checkins.flush();

    const tables = ['users', 'sessions', 'api_keys', 'products', 'versions', 'uploads', 'purchase_codes', 'code_sites', 'downloads', 'checkins', 'events', 'account_tokens'];
    const counts = async (userId: string) => {
      const out: Record<string, number> = {};
      for (const t of tables) {
        const where =
          t === 'users' ? sql`id = ${userId}::uuid`
          : ['sessions', 'api_keys', 'products', 'events', 'account_tokens'].includes(t) ? sql`user_id = ${userId}::uuid`
          : t === 'code_sites' ? sql`code_id in (select c.id from purchase_codes c join products p on p.id = c.product_id where p.user_id = ${userId}::uuid)`
          : sql`product_id in (select id from products where user_id = ${userId}::uuid)`;
        const r = await db2.execute(sql`select count(*)::int as n from ${sql.raw(t)} where ${where}`);
        const rows = (Array.isArray(r) ? r : (r as unknown as { rows: { n: number }[] }).rows) as { n: number }[];
        out[t] = Number(rows[0]!.n);
      }
      return out;
    };
    const before = await counts(alice.id);
    for (const t of ['users', 'sessions', 'api_keys', 'products', 'versions', 'uploads', 'purchase_codes', 'code_sites', 'downloads', 'checkins']) expect([t, before[t]! > 0]).toEqual([t, true]);
    const bobBefore = await counts(bob.id);
    const bobObjects = await app.runtime.storage.list(`vendors/${bob.id}/`);
    expect((await app.runtime.storage.list(`vendors/${alice.id}/`)).length).toBeGreaterThanOrEqual(3);

    await alice.v.web.get('/account');
    const typo = await alice.v.web.post('/account/delete', { confirmEmail: 'someone@else.example' });
    expect(typo.status).toBe(422);
    expect(typo.text).toContain('Type your email address exactly to confirm.');
    expect((await counts(alice.id)).products).toBe(1);

    const gone = await alice.v.web.post('/account/delete', { confirmEmail: alice.email.toUpperCase() });
    expect(gone.status).toBe(303);
    expect((await alice.v.web.get('/login')).text).toContain('Your account and everything in it were deleted.');
    expect(Object.values(await counts(alice.id)).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await app.runtime.storage.list(`vendors/${alice.id}/`)).toEqual([]);
    expect((await api(app.url, alice.v.key, 'GET', '/api/v1/products')).status).toBe(401);
    expect((await updateCheck(app, alice.productId, {})).status).toBe(404);

    expect(await counts(bob.id)).toEqual(bobBefore);
    expect((await app.runtime.storage.list(`vendors/${bob.id}/`)).sort()).toEqual(bobObjects.sort());
    expect((await api(app.url, bob.v.key, 'GET', `/api/v1/products/${bob.productId}`)).status).toBe(200);
  });
});

describe('without SMTP_URL', () => {
  test('the reset mail is written to the server log, clearly marked', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const app = await startTestApp({ logTo: sink });
    try {
      const web = new WebClient(app.url);
      await web.signUp('laptop@example.com', PASSWORD);
      const anon = new WebClient(app.url);
      await anon.get('/password/forgot');
      expect((await anon.post('/password/forgot', { email: 'laptop@example.com' })).status).toBe(303);
      const line = lines.find((l) => l.includes('EMAIL NOT SENT'));
      expect(line).toBeDefined();
      const entry = JSON.parse(line!) as { msg: string; mail: { to: string; text: string } };
      expect(entry.msg).toContain('SMTP_URL is unset');
      expect(entry.mail.to).toBe('laptop@example.com');
      const link = new URL(/http\S+\/password\/reset\?token=\S+/.exec(entry.mail.text)![0]);
      expect((await anon.get(link.pathname + link.search)).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
