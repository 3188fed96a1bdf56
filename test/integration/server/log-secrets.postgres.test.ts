import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { sha256Hex } from '../../../src/lib/crypto';
import { startTestApp, type TestApp } from '../../support/app';
import { api, createApiKey } from '../../support/api-client';
import { createCodes, fetchJson, productWithReleases, updateCheck } from '../../support/fixtures';
import { WebClient } from '../../support/web-client';

/**
 * Secrets never reach the logs: every kind of endpoint is exercised (pages, vendor API, update
 * check, download, license API, the CLI) at LOG_LEVEL=trace, queries are made to fail (their
 * parameters are password hashes, API-key hashes, codes), and the captured log is searched for
 * every secret involved.
 */

const REPO = path.resolve(__dirname, '../../..');
const PASSWORD = 'a-very-particular-passphrase-8c41';
const UA = { 'user-agent': 'WordPress/6.5; https://shop.example.com' };

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('node', ['dist/src/cli.js', ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

test('no code, key, token, session cookie, password or hash in the log of a run that touched them all, failures included', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app: TestApp = await startTestApp({ db: 'postgres', env: { LOG_LEVEL: 'trace', CACHE_L1_TTL_MS: '0' }, logTo: sink });
  const secrets: Record<string, string> = { password: PASSWORD };
  const db = app.runtime.database.db;
  const rename = (from: string, to: string) => db.execute(sql.raw(`alter table ${from} rename to ${to}`));
  try {
    // Pages: sign-up, sign-in (a wrong password first), the dashboard.
    const web = new WebClient(app.url);
    await web.signUp(`secrets-${Date.now()}@example.com`, PASSWORD);
    const key = await createApiKey(web, 'log test');
    const cookies = [...((web as unknown as { cookies: Map<string, string> }).cookies.values())];
    Object.assign(secrets, { key, keyHash: sha256Hex(key), csrf: web.csrf });
    cookies.forEach((c, i) => Object.assign(secrets, { [`cookie${i}`]: c, [`cookieHash${i}`]: sha256Hex(decodeURIComponent(c)) }));
    const vendor = { web, key };
    const product = await productWithReleases(app, vendor, { slug: 'secret-keeper', versions: ['1.0', '1.1'] });
    const [code, other, unseen] = await createCodes(app, vendor, product.id, { count: 3, maxSites: 2 });
    for (const [name, c] of Object.entries({ code, other, unseen })) Object.assign(secrets, { [name]: c!, [`${name}Canonical`]: c!.replace(/-/g, ''), [`${name}Hash`]: sha256Hex(c!.replace(/-/g, '')) });
    const codeId = (await api(app.url, key, 'GET', `/api/v1/purchase-codes/${code}`)).json.id as string;
    for (const page of ['/products', `/products/${product.id}`, `/products/${product.id}/codes`, `/products/${product.id}/codes/${codeId}`, `/products/${product.id}/codes?search=${code}`, '/account', `/details/${product.id}`]) {
      expect([page, (await web.get(page)).status]).toEqual([page, 200]);
    }

    // Vendor API, codes in the path in both spellings.
    expect((await api(app.url, key, 'GET', `/api/v1/purchase-codes/${code}`)).status).toBe(200);
    expect((await api(app.url, key, 'GET', `/api/v1/purchase-codes/${code!.replace(/-/g, '')}`)).status).toBe(200);
    expect((await api(app.url, key, 'PATCH', `/api/v1/purchase-codes/${other}`, { revoked: true })).status).toBe(200);
    expect((await api(app.url, key, 'GET', `/api/v1/purchase-codes/${code!.toLowerCase()}x`)).status).toBe(404);

    // Update checks (code in the query and in a form body), a download, the license API.
    const check = await updateCheck(app, product.id, { license: code!, installed_version: '1.0' }, UA);
    const url: string = check.json.download_url;
    const token = url.split('/download/')[1]!.split('/')[0]!;
    Object.assign(secrets, { token, tokenPayload: token.split('.')[0]!, tokenSignature: token.split('.')[1]! });
    expect((await fetch(`${app.url}/api/v1/updates/${product.id}`, { method: 'POST', headers: { ...UA, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ license: code! }) })).status).toBe(200);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    const license = (path: string) => fetchJson(`${app.url}/api/v1/licenses/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: product.id, license: code, domain: 'https://shop.example.com' }) });
    for (const p of ['check', 'activate', 'deactivate']) expect((await license(p)).status).toBe(200);

    // Queries that fail while their parameters are secrets.
    await rename('api_keys', 'api_keys_away');
    expect((await api(app.url, key, 'GET', '/api/v1/products')).status).toBe(500);
    await rename('api_keys_away', 'api_keys');
    await rename('sessions', 'sessions_away');
    expect((await web.get('/products')).status).toBe(500);
    await rename('sessions_away', 'sessions');
    await rename('purchase_codes', 'purchase_codes_away');
    expect((await updateCheck(app, product.id, { license: unseen! }, UA)).status).toBe(500);
    expect((await license('check')).status).toBe(500);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(500);
    await rename('purchase_codes_away', 'purchase_codes');
    await rename('users', 'users_away');
    const signup = new WebClient(app.url);
    await signup.get('/signup');
    expect((await signup.post('/signup', { email: `fail-${Date.now()}@example.com`, password: PASSWORD })).status).toBe(500);
    await rename('users_away', 'users');

    // Signing out, and a failed sign-in with the same password.
    await web.get('/products');
    await web.post('/logout');
    await web.get('/login');
    await web.post('/login', { email: 'nobody@example.com', password: PASSWORD });

    // The CLI, with the same environment; a failing one too.
    const env = { DATABASE_URL: app.config.database.url!, LOG_LEVEL: 'trace', DATA_DIR: app.config.dataDir, SECRET_KEY: app.config.secretKey! };
    const email = `cli-${Date.now()}@example.com`;
    const created = await runCli(['user:create', '--email', email, '--password', PASSWORD], env);
    expect(created.code).toBe(0);
    const cliKey = await runCli(['apikey:create', '--email', email], env);
    expect(cliKey.code).toBe(0);
    await rename('users', 'users_away');
    const failed = await runCli(['user:create', '--email', `x${email}`, '--password', PASSWORD], env);
    await rename('users_away', 'users');
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/42P01/); // the failure is described…
    lines.push(created.out, failed.out, cliKey.out.replace(/^wharf_\S+$/m, '')); // …and the key the command exists to print is its answer, not a log line

    const stored = (await db.execute(sql`select password_hash from users where password_hash is not null`)) as unknown;
    const hashes = (Array.isArray(stored) ? stored : (stored as { rows: unknown[] }).rows) as { password_hash: string }[];
    hashes.forEach((h, i) => (secrets[`argon2_${i}`] = h.password_hash));
  } finally {
    await app.stop();
  }

  const log = lines.join('');
  // The run did what it claims: failures logged (by SQLSTATE), codes and tokens redacted in paths.
  expect(log).toMatch(/"code":"42P01"/);
  expect(log).toContain('/api/v1/purchase-codes/[code]');
  expect(log).toContain('/api/v1/download/[token]');
  expect(log).toContain('"route":"update-check"');
  for (const [name, value] of Object.entries(secrets)) expect({ name, found: log.includes(value) }).toEqual({ name, found: false });
  expect(log).not.toMatch(/\$argon2id\$/);
  expect(log).not.toMatch(/params:/);
}, 180_000);
