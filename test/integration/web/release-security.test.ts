import crypto from 'node:crypto';
import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { createCodes, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';

/**
 * Issue 10, item 2, in embedded mode: the attack that worked against bare s3rver (vendor A's presigned
 * POST with its key changed to vendor B's release key) and anonymous access, against the real app.
 */
const UA = { 'user-agent': 'WordPress/6.4; https://customer.example.com' };
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

let app: TestApp;
let a: Vendor;
let b: Vendor;
let bProduct: { id: string; zips: Record<string, Buffer> };
let bCode: string;

beforeAll(async () => {
  app = await startTestApp();
  a = await newVendor(app, 'attacker');
  b = await newVendor(app, 'victim');
  bProduct = await productWithReleases(app, b, { slug: 'victim-plugin', versions: ['1.0'] });
  [bCode] = (await createCodes(app, b, bProduct.id, {})) as [string];
});
afterAll(() => app.stop());

/** What B's customer gets: the download redirect (whose Location shows the object key to anyone) and the bytes behind it. */
async function customerDownload(): Promise<{ location: string; bytes: Buffer }> {
  const check = await updateCheck(app, bProduct.id, { license: bCode }, UA);
  const redirect = await fetch(check.json.download_url, { redirect: 'manual' });
  expect(redirect.status).toBe(302);
  const location = redirect.headers.get('location')!;
  const s3 = await fetch(location);
  expect(s3.status).toBe(200);
  return { location, bytes: Buffer.from(await s3.arrayBuffer()) };
}

test("vendor A's presigned POST with its key changed to B's release key is refused, and B's customers still get B's bytes", async () => {
  const before = await customerDownload();
  expect(sha(before.bytes)).toBe(sha(bProduct.zips['1.0']!));
  // Downloads are presigned for release keys only: a prefix the upload presigner never produces.
  const bKey = decodeURIComponent(new URL(before.location).pathname.replace(/^\/wharf\//, ''));
  expect(bKey).toMatch(new RegExp(`^vendors/[0-9a-f-]{36}/products/${bProduct.id}/versions/[0-9a-f-]{36}-[0-9a-f]{16}\\.zip$`));

  const aProduct = await api(app.url, a.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'victim-plugin', name: 'Evil twin' });
  const post = await api(app.url, a.key, 'POST', `/api/v1/products/${aProduct.json.id}/uploads`);
  expect(post.json.key).toMatch(/\/releases\/[0-9a-f-]{36}\.zip$/);
  const evil = pluginZip('victim-plugin', '9.9', { name: 'Evil twin' });
  const res = await postToS3({ url: post.json.url, fields: { ...post.json.fields, key: bKey } }, evil);
  expect(res.status).toBe(403);
  expect(await res.text()).toMatch(/<Code>AccessDenied<\/Code>[\s\S]*Policy Condition failed/);

  const after = await customerDownload();
  expect(sha(after.bytes)).toBe(sha(bProduct.zips['1.0']!));
  expect((await app.runtime.storage.head(bKey))?.size).toBe(bProduct.zips['1.0']!.length);
});

test('a released object cannot be changed through its upload slot: posting again to a finalized slot leaves the release as it was', async () => {
  const product = await api(app.url, b.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'frozen', name: 'Frozen' });
  const post = await api(app.url, b.key, 'POST', `/api/v1/products/${product.json.id}/uploads`);
  const original = pluginZip('frozen', '1.0');
  expect((await postToS3(post.json, original)).status).toBe(204);
  expect((await api(app.url, b.key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: post.json.key })).status).toBe(201);
  await app.runtime.services.releases.idle();
  // The slot's policy is still valid for a few minutes: S3 accepts the bytes at the upload key...
  expect((await postToS3(post.json, pluginZip('frozen', '1.0', { name: 'Swapped' }))).status).toBe(204);
  // ...but the release is a separate copy, which no policy names.
  const [code] = await createCodes(app, b, product.json.id, {});
  const check = await updateCheck(app, product.json.id, { license: code! }, UA);
  const redirect = await fetch(check.json.download_url, { redirect: 'manual' });
  const bytes = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
  expect(sha(bytes)).toBe(sha(original));
});

test('anonymous list, GET, PUT and DELETE on the embedded S3 get 403 and change nothing', async () => {
  const { location, bytes } = await customerDownload();
  const u = new URL(location);
  const objectUrl = `${u.origin}${u.pathname}`;
  for (const [method, url, body] of [
    ['GET', `${u.origin}/wharf?list-type=2`, undefined],
    ['GET', `${u.origin}/wharf?prefix=vendors/`, undefined],
    ['GET', objectUrl, undefined],
    ['PUT', objectUrl, 'overwritten'],
    ['DELETE', objectUrl, undefined],
  ] as const) {
    const res = await fetch(url, { method, ...(body ? { body } : {}) });
    expect({ method, url, status: res.status, code: /<Code>([^<]+)/.exec(await res.text())?.[1] }).toEqual({ method, url, status: 403, code: 'AccessDenied' });
  }
  // A download URL whose signature was for another key is refused too.
  const forged = location.replace(/versions\/[^?]+/, 'versions/other.zip');
  expect((await fetch(forged)).status).toBe(403);
  expect(sha((await customerDownload()).bytes)).toBe(sha(bytes));
});
