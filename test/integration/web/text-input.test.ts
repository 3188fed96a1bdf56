import { sql } from 'drizzle-orm';
import { rowsOf } from '../../../src/db/rows';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { startTestApp, type TestApp } from '../../support/app';
import { newVendor, type Vendor } from '../../support/fixtures';
import { WebClient } from '../../support/web-client';

/**
 * Every text field, through the vendor API and through the dashboard's forms: a NUL or another
 * control character is a 422 naming the field (the form comes back with the message next to it),
 * and nothing is written. Numbers are JSON numbers or plain digits; dates are days in 2000–2100.
 */

const CONTROLS = ['\u0000', '\u0001', '\u0008', '\u000b', '\u001b', '\u007f'];
const SINGLE_LINE = ['name', 'slug', 'author', 'homepage', 'authorHomepage', 'bannerLow', 'bannerHigh', 'icon1x', 'icon2x'];
const MULTI_LINE = ['description', 'installation', 'changelog'];
const CODE_TEXT = ['note', 'expiresAt', 'count', 'maxDownloads', 'maxSites'];

const validProduct = (slug: string): Record<string, string> => ({
  type: 'plugin',
  slug,
  name: 'Acme Tools',
  author: 'Acme',
  homepage: 'https://acme.test/tools',
  authorHomepage: 'https://acme.test',
  bannerLow: 'https://acme.test/b.png',
  bannerHigh: 'https://acme.test/b2.png',
  icon1x: 'https://acme.test/i.png',
  icon2x: 'https://acme.test/i2.png',
  description: 'Tools.',
  installation: 'Upload.',
  changelog: '= 1.0 =\nFirst.',
});

/** The value with a control character in the middle, keeping it otherwise valid. */
const poison = (value: string, c: string) => `${value.slice(0, 3)}${c}${value.slice(3)}`;

/** The message the form shows next to a field, and its aria link. */
function expectFieldError(html: string, field: string, message: RegExp) {
  const m = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(html);
  expect({ field, message: m?.[1] }).toEqual({ field, message: expect.stringMatching(message) });
}

describe.each(DB_KINDS)('text, numbers and dates (%s)', (db) => {
  let app: TestApp;
  let vendor: Vendor;
  let productId: string;
  let counter = 0;
  const count = async (table: string) => {
    const r = await app.runtime.database.db.execute(sql.raw(`select count(*)::int as n from ${table}`));
    return Number(rowsOf<{ n: number }>(r)[0]!.n);
  };

  beforeAll(async () => {
    app = await startTestApp({ db });
    vendor = await newVendor(app);
    const created = await api(app.url, vendor.key, 'POST', '/api/v1/products', validProduct('text-base'));
    productId = created.json.id;
  });
  afterAll(() => app.stop());

  test('the product API refuses a control character in every text field, creating and updating nothing', async () => {
    const before = await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}`);
    for (const field of [...SINGLE_LINE, ...MULTI_LINE, 'type']) {
      for (const c of CONTROLS) {
        const body = validProduct(`text-${counter++}`);
        body[field] = poison(body[field]!, c);
        const created = await api(app.url, vendor.key, 'POST', '/api/v1/products', body);
        expect({ field, c, status: created.status }).toEqual({ field, c, status: 422 });
        expect(Object.keys(created.json.error.fields)).toEqual([field]);
        if (field !== 'type' && field !== 'slug') expect(created.json.error.fields[field]).toMatch(/control character U\+00[0-7][0-9A-F]/);

        if (field === 'slug' || field === 'type') continue;
        const patched = await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${productId}`, { [field]: body[field] });
        expect({ field, c, status: patched.status }).toEqual({ field, c, status: 422 });
        expect(Object.keys(patched.json.error.fields)).toEqual([field]);
      }
    }
    expect(await count('products')).toBe(1);
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}`)).json).toEqual(before.json);
  });

  test('line breaks are refused in single-line fields and kept in multi-line ones; tabs are fine everywhere', async () => {
    const broken = await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${productId}`, { name: 'Two\nlines' });
    expect(broken.status).toBe(422);
    expect(broken.json.error.fields).toEqual({ name: 'Use a single line (no line breaks).' });
    const ok = await api(app.url, vendor.key, 'PATCH', `/api/v1/products/${productId}`, { name: 'Acme\tTools', description: 'Line one\r\nLine two\n\n\tindented' });
    expect(ok.status).toBe(200);
    expect(ok.json.name).toBe('Acme\tTools');
    expect(ok.json.description).toBe('Line one\r\nLine two\n\n\tindented');
  });

  test('the purchase-code API refuses control characters, non-numbers and out-of-range dates, writing nothing', async () => {
    const url = `/api/v1/products/${productId}/purchase-codes`;
    const bad: [Record<string, unknown>, string][] = [
      ...CONTROLS.map((c): [Record<string, unknown>, string] => [{ note: `order${c}42` }, 'note']),
      [{ note: 'two\nlines' }, 'note'],
      ...CONTROLS.map((c): [Record<string, unknown>, string] => [{ expiresAt: `2030${c}-01-01` }, 'expiresAt']),
      ...['1e3', '0x10', ' 5', '5 ', '5.0', '+5', '-0', '1_000', 'Infinity', '５', '5\u0000'].map((v): [Record<string, unknown>, string] => [{ count: v }, 'count']),
      [{ count: true }, 'count'],
      [{ count: [5] }, 'count'],
      [{ maxSites: '0x10' }, 'maxSites'],
      [{ maxSites: '1e1' }, 'maxSites'],
      [{ maxDownloads: ' 7' }, 'maxDownloads'],
      [{ maxDownloads: '7.0' }, 'maxDownloads'],
      [{ maxDownloads: 7.5 }, 'maxDownloads'],
      [{ expiresAt: '1999-12-31' }, 'expiresAt'],
      [{ expiresAt: '2101-01-01' }, 'expiresAt'],
      [{ expiresAt: '0001-01-01' }, 'expiresAt'],
      [{ expiresAt: '9999-99-99' }, 'expiresAt'],
      [{ expiresAt: '2030-01-01T00:00:00Z' }, 'expiresAt'],
      [{ expiresAt: '2030-1-1' }, 'expiresAt'],
      [{ expiresAt: 20300101 }, 'expiresAt'],
    ];
    for (const [body, field] of bad) {
      const res = await api(app.url, vendor.key, 'POST', url, body);
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect({ body, fields: Object.keys(res.json.error.fields) }).toEqual({ body, fields: [field] });
    }
    expect(await count('purchase_codes')).toBe(0);

    // What is accepted: JSON numbers, plain digits, the edge days.
    const ok = await api(app.url, vendor.key, 'POST', url, { count: '2', maxSites: 3, maxDownloads: '10', expiresAt: '2100-12-31', note: 'order\t42' });
    expect(ok.status).toBe(201);
    expect(ok.json.codes).toHaveLength(2);
    expect(ok.json.codes[0]).toMatchObject({ max_sites: 3, max_downloads: 10, expires_at: '2100-12-31', note: 'order\t42' });
    expect((await api(app.url, vendor.key, 'POST', url, { count: 1, expiresAt: '2000-01-01' })).status).toBe(201);

    const search = await api(app.url, vendor.key, 'GET', `${url}?search=${encodeURIComponent('order\u000042')}`);
    expect(search.status).toBe(422);
    expect(Object.keys(search.json.error.fields)).toEqual(['search']);
  });

  test('finalizing an upload by a key with a control character is a 422 naming the key', async () => {
    const res = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/versions`, { key: 'vendors/x\u0000/y.zip' });
    expect(res.status).toBe(422);
    expect(Object.keys(res.json.error.fields)).toEqual(['key']);
  });

  test('the licence API answers 4xx, never 500, for control characters', async () => {
    for (const c of CONTROLS) {
      for (const body of [{ productId: `${productId}${c}`, license: 'X', domain: 'a.test' }, { productId, license: `AB${c}CD`, domain: 'a.test' }, { productId, license: 'ABCD', domain: `a${c}.test` }]) {
        const res = await api(app.url, null, 'POST', '/api/v1/licenses/activate', body);
        expect({ body, status: res.status >= 400 && res.status < 500 }).toEqual({ body, status: true });
      }
    }
  });

  test('the product forms re-render with the message next to the field and store nothing', async () => {
    const web = vendor.web;
    const products = await count('products');
    // Description, installation and the other sections are edited on the sections page (the rich text editor's form).
    for (const field of SINGLE_LINE) {
      const c = CONTROLS[counter++ % CONTROLS.length]!;
      const values = validProduct(`form-${counter++}`);
      values[field] = poison(values[field]!, c);
      await web.get('/products/new');
      const created = await web.post('/products', values);
      expect({ field, status: created.status }).toEqual({ field, status: 422 });
      expectFieldError(created.text, field, /control character U\+00/);

      if (field === 'slug') continue;
      await web.get(`/products/${productId}/edit`);
      const edited = await web.post(`/products/${productId}/edit`, { ...validProduct('ignored'), [field]: values[field]! });
      expect({ field, status: edited.status }).toEqual({ field, status: 422 });
      expectFieldError(edited.text, field, /control character U\+00/);
    }
    expect(await count('products')).toBe(products);
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}`)).json.name).toBe('Acme\tTools');
    for (const field of ['description', 'installation', 'faq']) {
      const c = CONTROLS[counter++ % CONTROLS.length]!;
      await web.get(`/products/${productId}/content`);
      const res = await web.post(`/products/${productId}/content`, { format: 'markdown', [`section_${field}`]: poison('Some text', c) });
      expect({ field, status: res.status }).toEqual({ field, status: 422 });
      expectFieldError(res.text, `section_${field}`, /control character U\+00/);
    }
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}`)).json.sections).not.toHaveProperty('faq');
  });

  test('the purchase-code form re-renders with the field named, for control characters, non-numbers and dates', async () => {
    const web = vendor.web;
    const codes = await count('purchase_codes');
    const cases: [Record<string, string>, string, RegExp][] = [
      ...CONTROLS.map((c): [Record<string, string>, string, RegExp] => [{ note: `order${c}1` }, 'note', /control character/]),
      [{ count: '1e3' }, 'count', /between 1 and 1,000/],
      [{ count: ' 5' }, 'count', /between 1 and 1,000/],
      [{ count: '5.0' }, 'count', /between 1 and 1,000/],
      [{ maxSites: '0x10' }, 'maxSites', /whole number/],
      [{ maxDownloads: '1e2' }, 'maxDownloads', /whole number/],
      [{ expiresAt: '1999-12-31' }, 'expiresAt', /from 2000-01-01 to 2100-12-31/],
      [{ expiresAt: '2101-01-01' }, 'expiresAt', /from 2000-01-01 to 2100-12-31/],
      [{ expiresAt: `2030-01-0${'\u0000'}` }, 'expiresAt', /YYYY-MM-DD/],
    ];
    for (const [fields, field, message] of cases) {
      await web.get(`/products/${productId}/codes/new`);
      const res = await web.post(`/products/${productId}/codes`, { count: '1', ...fields });
      expect({ fields, status: res.status }).toEqual({ fields, status: 422 });
      expectFieldError(res.text, field, message);
    }
    expect(await count('purchase_codes')).toBe(codes);
    const search = await web.get(`/products/${productId}/codes?search=${encodeURIComponent('a\u0000b')}`);
    expect(search.status).toBe(422);
    expect(search.text).toContain('The search cannot contain control characters.');
  });

  test('sign-up, sign-in and API-key forms name the field and write nothing', async () => {
    const users = await count('users');
    for (const [i, c] of ['\u0000', '\u001b'].entries()) {
      const web = new WebClient(app.url);
      await web.get('/signup');
      const email = await web.post('/signup', { email: `ctl${i}${c}@example.com`, password: 'correct horse battery staple' });
      expect(email.status).toBe(422);
      expectFieldError(email.text, 'email', /control character/);
      const password = await web.post('/signup', { email: `ctl${i}@example.com`, password: `correct horse${c} battery staple` });
      expect(password.status).toBe(422);
      expectFieldError(password.text, 'password', /control character/);

      await web.get('/login');
      const login = await web.post('/login', { email: `someone${c}@example.com`, password: 'whatever it is' });
      expect(login.status).toBe(422);
      expectFieldError(login.text, 'email', /control character/);
    }
    expect(await count('users')).toBe(users);

    const keys = await count('api_keys');
    await vendor.web.get('/account');
    const key = await vendor.web.post('/account/api-keys', { name: 'CI\u0000job' });
    expect(key.status).toBe(422);
    expectFieldError(key.text, 'name', /control character/);
    expect(key.text).not.toContain('id="new-api-key"');
    expect((await vendor.web.post('/account/api-keys', { name: 'x'.repeat(101) })).status).toBe(422);
    expect(await count('api_keys')).toBe(keys);
  });
});
