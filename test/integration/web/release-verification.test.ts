import { and, eq } from 'drizzle-orm';
import { versions } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { createCodes, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';
import { ATTACKS, type Attack } from '../../support/zip-attacks';

/**
 * Issue 10, item 3, through the real pipeline: each hostile zip is refused with a clear reason (at
 * finalize when the file list shows it, else by the deep verification pass), is never offered or
 * downloadable, its object is deleted, and the previous live version stays live.
 */
const SLUG = 'verified';
const UA = { 'user-agent': 'WordPress/6.4; https://customer.example.com' };
let app: TestApp;
let v: Vendor;
let productId: string;
let code: string;

beforeAll(async () => {
  app = await startTestApp();
  v = await newVendor(app);
  productId = (await productWithReleases(app, v, { slug: SLUG, versions: ['1.0'] })).id;
  [code] = (await createCodes(app, v, productId, {})) as [string];
});
afterAll(() => app.stop());

async function release(zip: Buffer) {
  const post = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/uploads`);
  expect((await postToS3(post.json, zip)).status).toBe(204);
  const fin = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/versions`, { key: post.json.key });
  await app.runtime.services.releases.idle();
  return { fin, uploadKey: post.json.key as string };
}

async function stillOffering(version: string) {
  const check = await updateCheck(app, productId, { license: code, installed_version: '0.1' }, UA);
  expect(check.json.version).toBe(version);
  const listed = (await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions`)).json.versions;
  expect(listed.filter((x: { live: boolean }) => x.live).map((x: { version: string }) => x.version)).toEqual([version]);
}

const attacks = Object.keys(ATTACKS) as Attack[];

test.each(attacks.map((a, i) => [a, `1.${i + 1}`] as const))('the %s attack (as version %s) is refused, deleted and never offered', async (attack, version) => {
  const { fin, uploadKey } = await release(ATTACKS[attack].build(SLUG, version));
  expect(await app.runtime.storage.head(uploadKey)).toBeNull();
  if (fin.status === 422) {
    // Visible in the file list: refused at finalize, before any version exists.
    expect(fin.json.error.reasons.join(' ')).toMatch(ATTACKS[attack].reason);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions/${version}`)).status).toBe(404);
  } else {
    // Only the deep pass shows it: the version was `verifying` (never offered), then refused with the reason.
    expect(fin.status).toBe(201);
    expect(fin.json).toMatchObject({ version, status: 'verifying', live: false });
    const after = (await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions/${version}`)).json;
    expect(after).toMatchObject({ status: 'refused', live: false, sha256: null });
    expect(after.reasons.join(' ')).toMatch(ATTACKS[attack].reason);
    const row = (await app.runtime.database.db.select().from(versions).where(and(eq(versions.productId, productId), eq(versions.version, version))))[0]!;
    expect(await app.runtime.storage.head(row.s3Key)).toBeNull();
    const page = await v.web.get(`/products/${productId}`);
    expect(page.text).toMatch(new RegExp(`data-version="${version.replace('.', '\\.')}" data-status="refused"`));
    expect(page.text).toContain('refused');
    const makeLive = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/versions/${version}/live`);
    expect(makeLive.json.error?.code).toBe('version_refused');
  }
  await stillOffering('1.0');
});

test('the versions the deep pass refused are exactly the two attacks the file list cannot show', async () => {
  const refusedLater = (await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions`)).json.versions.filter((x: { status: string }) => x.status === 'refused');
  const expected = (['localName', 'lyingSize'] as Attack[]).map((a) => `1.${attacks.indexOf(a) + 1}`);
  expect(refusedLater.map((x: { version: string }) => x.version).sort()).toEqual(expected);
});

test('a refused version number can be uploaded again once fixed, and then goes live', async () => {
  const refused = (await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions`)).json.versions.find((x: { status: string }) => x.status === 'refused');
  const { fin } = await release(pluginZip(SLUG, refused.version));
  expect(fin.status).toBe(201);
  expect((await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions/${refused.version}`)).json).toMatchObject({ status: 'ready', live: true, reasons: [] });
  await stillOffering(refused.version);
});
