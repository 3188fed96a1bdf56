import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { fetchJson, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { WebClient } from '../../support/web-client';

const GROUPED = /^[0-9A-Z]{5}(?:-[0-9A-Z]{5}){3}-[0-9A-Z]{6}$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const NOBODY = '00000000-0000-4000-8000-000000000000';

let counter = 0;

/** A product made through the dashboard (no release needed for the code pages). */
async function newProduct(web: WebClient, name = 'Code Product'): Promise<string> {
  await web.get('/products/new');
  const res = await web.post('/products', { type: 'plugin', slug: `codes-${Date.now()}-${counter++}`, name });
  if (res.status !== 302) throw new Error(`product: ${res.status}`);
  return new RegExp(`/products/(${UUID})`).exec(res.location!)![1]!;
}

async function createCodes(web: WebClient, productId: string, fields: Record<string, string>) {
  await web.get(`/products/${productId}/codes/new`);
  return web.post(`/products/${productId}/codes`, fields);
}

/** Code id → grouped code, for every row of a list or batch page. */
function codesOn(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(new RegExp(`/codes/(${UUID})"><code class="code-value">([^<]+)</code>`, 'g'))) out.set(m[1]!, m[2]!);
  return out;
}

function siteRow(html: string, host: string): string {
  const m = new RegExp(`<tr data-host="${host.replace(/\./g, '\\.')}"[\\s\\S]*?</tr>`).exec(html);
  if (!m) throw new Error(`no row for ${host}`);
  return m[0];
}

describe.each(DB_KINDS)('purchase codes in the dashboard (%s)', (db) => {
  let app: TestApp;
  let vendor: Vendor;
  let released: string;
  beforeAll(async () => {
    app = await startTestApp({ db, env: { RATE_LIMIT_LICENSES_PER_MINUTE: '1000' } });
    vendor = await newVendor(app);
    released = (await productWithReleases(app, vendor, { slug: `acme-codes-${db}`, versions: ['1.0'], readme: true })).id;
  });
  afterAll(() => app.stop());

  test('one code with limits: detail page, bound sites, downloads, deactivating a site', async () => {
    const web = vendor.web;
    expect((await web.get(`/products/${released}`)).text).toContain(`href="/products/${released}/codes"`);
    const created = await createCodes(web, released, { count: '1', expiresAt: '2099-12-31', maxDownloads: '5', maxSites: '2', note: 'Order #1001 <b>' });
    expect(created.status).toBe(303);
    const codeUrl = new RegExp(`^/products/${released}/codes/(${UUID})$`).exec(created.location!)![0];

    let page = await web.get(codeUrl);
    expect(page.status).toBe(200);
    const code = /<code id="code-value">([0-9A-Z-]+)<\/code>/.exec(page.text)![1]!;
    expect(code).toMatch(GROUPED);
    expect(page.text).toContain('badge status-active');
    expect(page.text).toContain('after 2099-12-31');
    expect(page.text).toContain('0 of 5');
    expect(page.text).toContain('0 of 2');
    expect(page.text).toContain('Order #1001 &lt;b&gt;');
    expect(page.text).toContain('No site has activated this code yet.');

    for (const domain of ['https://shop.example.com', 'http://localhost:8080']) {
      const res = await fetchJson(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: released, license: code, domain }) });
      expect(res.status).toBe(200);
    }
    // A real download through the update check, from the bound shop.
    const check = await updateCheck(app, released, { license: code, installed_version: '0.9' }, { 'user-agent': 'WordPress/6.4; https://shop.example.com' });
    expect((await fetch(check.json.download_url, { redirect: 'manual' })).status).toBe(302);

    page = await web.get(codeUrl);
    expect(siteRow(page.text, 'shop.example.com')).toMatch(/<td>yes<\/td>[\s\S]*<td>active<\/td>[\s\S]*Deactivate/);
    expect(siteRow(page.text, 'localhost')).toMatch(/development — free[\s\S]*<td>active<\/td>/);
    expect(page.text).toContain('1 of 2'); // localhost does not count
    expect(page.text).toContain('1 of 5');
    expect(page.text).toMatch(/<table class="table downloads">[\s\S]*<td>1\.0<\/td><td>shop\.example\.com<\/td>/);

    const siteId = new RegExp(`/sites/(${UUID})/deactivate`).exec(siteRow(page.text, 'shop.example.com'))![1]!;
    const off = await web.post(`${codeUrl}/sites/${siteId}/deactivate`);
    expect(off.status).toBe(303);
    expect(off.location).toBe(codeUrl);
    page = await web.get(off.location!);
    expect(page.text).toContain('Site deactivated');
    const shop = siteRow(page.text, 'shop.example.com');
    expect(shop).toContain('class="inactive"');
    expect(shop).toContain('deactivated 20');
    expect(shop).not.toContain('Deactivate</button>');
    expect(page.text).toContain('0 of 2');
  });

  test('25 codes at once, then the CSV of that batch with formulas neutralised', async () => {
    const web = vendor.web;
    const productId = await newProduct(web);
    await createCodes(web, productId, { count: '1', note: 'not in the batch' });
    const created = await createCodes(web, productId, { count: '25', maxSites: '3', note: '=cmd()' });
    expect(created.status).toBe(303);
    const batchId = new RegExp(`^/products/${productId}/codes/batches/(${UUID})$`).exec(created.location!)![1]!;

    const page = await web.get(created.location!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toContain('no-store');
    expect(page.text).toContain('25 purchase codes created.');
    const codes = [...codesOn(page.text).values()];
    expect(codes).toHaveLength(25);
    const csvUrl = `/products/${productId}/codes.csv?batch=${batchId}`;
    expect(page.text).toContain(`href="${csvUrl}"`);

    const csv = await web.get(csvUrl);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="?codes-[\w-]+-purchase-codes\.csv"?$/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('code,status,expires_on,max_downloads,downloads_used,max_sites,sites_used,customer_email,customer_name,note,created_at');
    expect(lines).toHaveLength(26);
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      expect(cells[0]!.replace(/"/g, '')).toMatch(GROUPED);
      expect(cells[1]).toBe('"active"');
      expect(cells[5]).toBe('"3"');
      expect(cells[6]).toBe('"0"'); // sites used
      expect(cells[9]).toBe(`"'=cmd()"`);
    }
    expect(lines.slice(1).map((l) => l.split(',')[0]!.replace(/"/g, '')).sort()).toEqual([...codes].sort());

    // Unfiltered export has both batches; the list page offers it.
    const list = await web.get(`/products/${productId}/codes`);
    expect(list.text).toContain(`href="/products/${productId}/codes.csv"`);
    expect((await web.get(`/products/${productId}/codes.csv`)).text.trimEnd().split('\r\n')).toHaveLength(27);
    expect((await web.get(`/products/${productId}/codes/batches/not-a-uuid`)).status).toBe(404);
    expect((await web.get(`/products/${productId}/codes/batches/${NOBODY}`)).status).toBe(404);
  });

  test('search by note or code fragment, filter by status, paginate, revoke and reinstate', async () => {
    const web = vendor.web;
    const productId = await newProduct(web);
    const base = `/products/${productId}/codes`;
    const one = await createCodes(web, productId, { count: '1', note: 'Findme order 77' });
    const aId = one.location!.split('/').pop()!;
    const past = await createCodes(web, productId, { count: '1', expiresAt: '2020-01-31', note: 'old customer' });
    const bId = past.location!.split('/').pop()!;
    await createCodes(web, productId, { count: '55', note: 'bulk' });

    const ids = async (path: string) => [...codesOn((await web.get(path)).text).keys()];
    expect(await ids(`${base}?search=findme`)).toEqual([aId]);
    const aCode = codesOn((await web.get(`${base}?search=findme`)).text).get(aId)!;
    const fragment = aCode.slice(5, 14); // "XXXX-XXXX"
    expect(await ids(`${base}?search=${encodeURIComponent(fragment)}`)).toEqual([aId]);
    expect(await ids(`${base}?search=${fragment.replace('-', '').toLowerCase()}`)).toEqual([aId]);

    expect(await ids(`${base}?status=expired`)).toEqual([bId]);
    const expiredPage = await web.get(`${base}/${bId}`);
    expect(expiredPage.text).toContain('badge status-expired');

    await web.get(`${base}/${aId}`);
    const revoke = await web.post(`${base}/${aId}/revoke`);
    expect(revoke.status).toBe(303);
    expect(revoke.location).toBe(`${base}/${aId}`);
    expect((await web.get(revoke.location!)).text).toContain('badge status-revoked');
    expect(await ids(`${base}?status=revoked`)).toEqual([aId]);
    const active = await ids(`${base}?status=active&page=1`);
    expect(active).not.toContain(aId);
    expect(active).not.toContain(bId);
    expect(await ids(`${base}?status=revoked&search=findme`)).toEqual([aId]);
    expect(await ids(`${base}?status=active&search=findme`)).toEqual([]);

    // The CSV follows the current filter.
    const revokedCsv = (await web.get(`${base}.csv?status=revoked`)).text.trimEnd().split('\r\n');
    expect(revokedCsv).toHaveLength(2);
    expect(revokedCsv[1]).toContain(`"${aCode}","revoked"`);

    const reinstate = await web.post(`${base}/${aId}/reinstate`);
    expect(reinstate.status).toBe(303);
    expect((await web.get(reinstate.location!)).text).toContain('Code reinstated.');
    expect(await ids(`${base}?status=revoked`)).toEqual([]);
    expect(await ids(`${base}?status=active&search=findme`)).toEqual([aId]);

    // 57 codes: 50 on the first page, the rest on the second, the filter kept in the links.
    const first = await web.get(`${base}?search=bulk`);
    expect(codesOn(first.text).size).toBe(50);
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain(`href="${base}?search=bulk&amp;page=2"`);
    expect(codesOn((await web.get(`${base}?search=bulk&page=2`)).text).size).toBe(5);
    expect(codesOn((await web.get(base)).text).size).toBe(50);
  });

  test('invalid input is explained next to each field, kept in the form, and creates nothing', async () => {
    const web = vendor.web;
    const productId = await newProduct(web);
    const cases: [Record<string, string>, string, string][] = [
      [{ count: '0' }, 'count', 'Create between 1 and 1,000 codes at once.'],
      [{ count: '5000' }, 'count', 'Create between 1 and 1,000 codes at once.'],
      [{ count: '2', maxSites: '-1' }, 'maxSites', 'Maximum sites must be a whole number'],
      [{ count: '2', maxDownloads: '1.5' }, 'maxDownloads', 'Maximum downloads must be a whole number'],
      [{ count: '2', expiresAt: '2024-02-30' }, 'expiresAt', 'Enter a date as YYYY-MM-DD.'],
      [{ count: '2', note: 'x'.repeat(501) }, 'note', 'Use at most 500 characters.'],
    ];
    for (const [fields, field, message] of cases) {
      const res = await createCodes(web, productId, fields);
      expect({ field, status: res.status }).toEqual({ field, status: 422 });
      expect(res.text).toContain('Please correct the highlighted fields.');
      expect(res.text).toMatch(new RegExp(`<p class="field-error" id="${field}-error">${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(res.text).toContain(`aria-describedby="${field}-error"`);
      const value = fields[field]!;
      if (field !== 'note') expect(res.text).toContain(`value="${value}"`);
    }
    const list = await web.get(`/products/${productId}/codes`);
    expect(list.text).toContain('No purchase codes yet.');
    expect(codesOn(list.text).size).toBe(0);
  });

  test('revoking without the CSRF token is refused and changes nothing', async () => {
    const web = vendor.web;
    const productId = await newProduct(web);
    const created = await createCodes(web, productId, { count: '1' });
    const codeUrl = created.location!;
    await web.get(codeUrl);
    const missing = await web.post(`${codeUrl}/revoke`, {}, { csrf: false });
    expect(missing.status).toBe(403);
    const forged = await web.post(`${codeUrl}/revoke`, { _csrf: 'x'.repeat(43) }, { csrf: false });
    expect(forged.status).toBe(403);
    const page = await web.get(codeUrl);
    expect(page.text).toContain('badge status-active');
    expect(page.text).not.toContain('badge status-revoked');
  });

  test("another vendor gets 404 on every code page and action of the first vendor's product", async () => {
    const alice = vendor.web;
    const productId = await newProduct(alice, 'Alice Secret Plugin');
    const created = await createCodes(alice, productId, { count: '3', maxSites: '2', note: 'alice-only' });
    const batchId = created.location!.split('/').pop()!;
    const [codeId, code] = [...codesOn((await alice.get(created.location!)).text)][0]!;
    const activated = await fetchJson(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId, license: code, domain: 'alice.example.com' }) });
    expect(activated.status).toBe(200);
    const siteId = new RegExp(`/sites/(${UUID})/deactivate`).exec((await alice.get(`/products/${productId}/codes/${codeId}`)).text)![1]!;

    const bob = new WebClient(app.url);
    await bob.signUp(`bob-codes-${db}@example.com`);
    const bobProduct = await newProduct(bob, 'Bob Plugin');
    await bob.get('/products');
    const a = `/products/${productId}/codes`;
    const crossed = `/products/${bobProduct}/codes/${codeId}`; // Bob's product, Alice's code
    for (const path of [a, `${a}/new`, `${a}.csv`, `${a}.csv?batch=${batchId}`, `${a}/batches/${batchId}`, `${a}/${codeId}`, crossed, `/products/${bobProduct}/codes/batches/${batchId}`]) {
      const res = await bob.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.text).not.toContain('alice-only');
      expect(res.text).not.toContain(code);
    }
    for (const path of [a, `${a}/${codeId}/revoke`, `${a}/${codeId}/reinstate`, `${a}/${codeId}/sites/${siteId}/deactivate`, `${crossed}/revoke`, `${crossed}/sites/${siteId}/deactivate`]) {
      const res = await bob.post(path, { count: '1' });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    // Bob's own lists and exports hold nothing of Alice's.
    expect((await bob.get(`/products/${bobProduct}/codes?search=alice`)).text).toContain('No codes match this filter.');
    expect((await bob.get(`/products/${bobProduct}/codes.csv?batch=${batchId}`)).text.trimEnd().split('\r\n')).toHaveLength(1);

    const page = await alice.get(`/products/${productId}/codes/${codeId}`);
    expect(page.text).toContain('badge status-active');
    expect(siteRow(page.text, 'alice.example.com')).toContain('<td>active</td>');
    expect(codesOn((await alice.get(a)).text).size).toBe(3);
  });

  test('signed-out visitors are sent to sign in', async () => {
    const visitor = new WebClient(app.url);
    const res = await visitor.get(`/products/${released}/codes`);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`/login?next=${encodeURIComponent(`/products/${released}/codes`)}`);
    expect((await visitor.get(`/products/${released}/codes.csv`)).status).toBe(302);
  });

  test('the public details page renders the description as HTML with scripts escaped', async () => {
    const patched = await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${released}`, { description: 'Makes **forms** fast.\n\n<script>alert(1)</script>', installation: '1. Upload\n2. Activate' });
    expect(patched.status).toBe(200);
    const res = await fetch(`${app.url}/details/${released}`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(html).toContain(`Product acme-codes-${db}`);
    expect(html).toContain('<dd>1.0</dd>');
    expect(html).toContain('Makes <strong>forms</strong> fast.');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toMatch(/<ol>\s*<li>Upload<\/li>\s*<li>Activate<\/li>\s*<\/ol>/);
    // The readme.txt changelog, per version up to the live one (1.0 here: 1.1's entry is not shown).
    expect(html).toMatch(/<h4>1\.0<\/h4>\s*<ul>\s*<li>First release\.<\/li>\s*<\/ul>/);
    expect(html).not.toContain('Faster.');
    expect(html).not.toContain('Sign in');

    expect((await fetch(`${app.url}/details/${NOBODY}`)).status).toBe(404);
    const bad = await fetch(`${app.url}/details/not-a-uuid`);
    expect(bad.status).toBe(404);
    expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
  });
});
