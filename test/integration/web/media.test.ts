import { startTestApp, type TestApp } from '../../support/app';
import { api } from '../../support/api-client';
import { DB_KINDS } from '../../support/db-kinds';
import { newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';

/** Banner and icon images: presigned straight to S3 like releases, size- and type-checked, shown to WordPress from /media/…. */

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);

async function json(v: Vendor, path: string, body: unknown) {
  const res = await v.web.request('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': v.web.csrf } });
  return { status: res.status, json: JSON.parse(res.text || 'null') };
}

async function sendToS3(post: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string) {
  const form = new FormData();
  for (const [k, val] of Object.entries(post.fields)) form.append(k, val);
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), 'image');
  return fetch(post.url, { method: 'POST', body: form, redirect: 'manual' });
}

describe.each(DB_KINDS)('banner and icon uploads (%s)', (db) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ db });
  });
  afterAll(() => app.stop());

  test('an icon goes to S3, is checked, lands in the update JSON and is served through /media', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'pictured', versions: ['1.0'], free: true });
    expect((await v.web.get(`/products/${p.id}/edit`)).text).toContain('data-media-kind="icon1x"');

    expect((await json(v, `/products/${p.id}/media/icon1x/presign`, { contentType: 'image/svg+xml' })).status).toBe(422);
    const post = await json(v, `/products/${p.id}/media/icon1x/presign`, { contentType: 'image/png' });
    expect(post.status).toBe(201);
    expect(post.json.maxBytes).toBe(1024 * 1024);
    expect((await sendToS3(post.json, PNG, 'image/png')).status).toBe(204);
    const attached = await json(v, `/products/${p.id}/media/icon1x`, { key: post.json.key });
    expect(attached.status).toBe(200);
    expect(attached.json.url).toMatch(new RegExp(`^${app.url}/media/${p.id}/icon1x-[0-9a-f]{16}\\.png$`));

    const check = await updateCheck(app, p.id, {});
    expect(check.json.icons['1x']).toBe(attached.json.url);
    const redirect = await fetch(attached.json.url, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const image = await fetch(redirect.headers.get('location')!);
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);

    // A file that is not the image it claims to be is refused and removed.
    const fake = await json(v, `/products/${p.id}/media/bannerLow/presign`, { contentType: 'image/png' });
    expect((await sendToS3(fake.json, Buffer.from('<?php echo 1;'), 'image/png')).status).toBe(204);
    const refused = await json(v, `/products/${p.id}/media/bannerLow`, { key: fake.json.key });
    expect(refused.status).toBe(422);
    expect(await app.runtime.storage.head(fake.json.key)).toBeNull();
    // Too big for the kind: S3 refuses it while it streams in.
    const big = await json(v, `/products/${p.id}/media/icon2x/presign`, { contentType: 'image/png' });
    expect((await sendToS3(big.json, Buffer.concat([PNG, Buffer.alloc(1024 * 1024 + 1)]), 'image/png')).status).toBe(400);
    // Another kind's key, or another vendor: 404.
    expect((await json(v, `/products/${p.id}/media/bannerLow`, { key: post.json.key })).status).toBe(404);
    const bob = await newVendor(app, 'bob');
    await bob.web.get('/products');
    expect((await json(bob, `/products/${p.id}/media/icon1x/presign`, { contentType: 'image/png' })).status).toBe(404);
    expect((await json(bob, `/products/${p.id}/media/icon1x`, { key: post.json.key })).status).toBe(404);
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${p.id}`)).status).toBe(200);
  });
});
