import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor, productWithReleases, updateCheck } from '../../support/fixtures';

/** The products list and product page as a vendor reads them: onboarding, live version, active codes, slug rules, the live switch. */

describe.each(DB_KINDS)('products overview (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('an empty account walks through three steps; the list then shows live version, active codes and Free Yes/No', async () => {
    const v = await newVendor(app);
    const empty = await v.web.get('/products');
    expect(empty.text).toContain('Get started in three steps');
    expect([...empty.text.matchAll(/<li><strong>/g)]).toHaveLength(3);

    const paid = await productWithReleases(app, v, { slug: 'paid-one', versions: ['1.0', '1.2'] });
    await createCodes(app, v, paid.id, { count: 3 });
    const [revoked] = await createCodes(app, v, paid.id, { count: 1 });
    await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${revoked}`, { revoked: true });
    const free = await productWithReleases(app, v, { slug: 'free-one', versions: [], free: true });

    const list = await v.web.get('/products');
    const row = (id: string) => new RegExp(`<tr data-product-id="${id}">[\\s\\S]*?</tr>`).exec(list.text)![0];
    expect(row(paid.id)).toContain('<td data-label="Live version" class="live-version">1.2</td>');
    expect(row(paid.id)).toMatch(/class="active-codes"><a [^>]+>3<\/a>/);
    expect(row(paid.id)).toContain('<td data-label="Free" class="free">No</td>');
    expect(row(free.id)).toContain('none yet');
    expect(row(free.id)).toContain('<td data-label="Free" class="free">Yes</td>');
  });

  test('the slug can change until the first release; "Make live" names the version and the sites it reaches', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'early-slug', versions: [] });
    const edit = await v.web.get(`/products/${p.id}/edit`);
    expect(edit.text).toContain('id="slug"');
    const renamed = await v.web.post(`/products/${p.id}/edit`, { name: 'Renamed', slug: 'better-slug' });
    expect(renamed.status).toBe(302);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}`)).json.slug).toBe('better-slug');

    const released = await productWithReleases(app, v, { slug: 'fixed-slug', versions: ['1.0', '1.1'] });
    expect((await v.web.get(`/products/${released.id}/edit`)).text).not.toContain('id="slug"');
    const refused = await v.web.post(`/products/${released.id}/edit`, { name: 'X', slug: 'other' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('The slug cannot change once a release exists');

    const [code] = await createCodes(app, v, released.id);
    for (const site of ['a.example.com', 'b.example.com']) await updateCheck(app, released.id, { license: code! }, { 'user-agent': `WordPress/6.4; https://${site}` });
    await app.runtime.services.checkins.flush();
    const page = await v.web.get(`/products/${released.id}`);
    expect(page.text).toContain('data-confirm="Make version 1.0 live? 2 sites checked for updates in the last 30 days; they will be offered 1.0."');
    expect(page.text).toContain(' · live: 1.1');
    expect(page.text).toContain('data-copy="#update-url"');
    expect(page.text).toContain('data-copy="#client-snippet"');
  });
});
