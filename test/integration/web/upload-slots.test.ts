import { eq } from 'drizzle-orm';
import { uploads } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { api } from '../../support/api-client';
import { newVendor, type Vendor } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';

/** Issue 10, item 8: upload slots are made only on request, refused after expiry, and swept with their objects. */
describe.each(DB_KINDS)('upload slots (%s)', (db) => {
  let app: TestApp;
  let v: Vendor;
  let productId: string;
  beforeAll(async () => {
    app = await startTestApp({ db });
    v = await newVendor(app);
    productId = (await api(app.url, v.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'slots', name: 'Slots' })).json.id;
  });
  afterAll(() => app.stop());

  const slotCount = async () => (await app.runtime.database.db.select().from(uploads).where(eq(uploads.productId, productId))).length;
  const expire = (key: string, msAgo: number) => app.runtime.database.db.update(uploads).set({ expiresAt: new Date(Date.now() - msAgo) }).where(eq(uploads.s3Key, key));

  async function slotWithFile(version: string) {
    const post = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/uploads`);
    expect((await postToS3(post.json, pluginZip('slots', version))).status).toBe(204);
    return post.json as { key: string };
  }

  test('opening the upload page makes no slot; Start upload and the JSON presign make exactly one each', async () => {
    const before = await slotCount();
    for (let i = 0; i < 3; i++) expect((await v.web.get(`/products/${productId}/releases/new`)).status).toBe(200);
    expect(await slotCount()).toBe(before);
    const page = await v.web.post(`/products/${productId}/releases/new`, {});
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<form id="upload-form" method="post" action="http:\/\/localhost:\d+\/wharf"/);
    expect(await slotCount()).toBe(before + 1);
    expect((await v.web.postJson(`/products/${productId}/uploads`)).status).toBe(201);
    expect(await slotCount()).toBe(before + 2);
    // Starting an upload is a form post like any other: without the CSRF token it is refused, and makes nothing.
    const forged = await v.web.post(`/products/${productId}/releases/new`, {}, { csrf: false });
    expect(forged.status).toBe(403);
    expect(await slotCount()).toBe(before + 2);
  });

  test('finalize refuses a slot past its expiry with a clear 410, in the API and on the no-JavaScript return', async () => {
    const late = await slotWithFile('1.0');
    await expire(late.key, 60_000);
    const res = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/versions`, { key: late.key });
    expect(res.status).toBe(410);
    expect(res.json.error).toMatchObject({ code: 'upload_expired', message: expect.stringMatching(/This upload expired at \d{4}-\d\d-\d\d \d\d:\d\d UTC .*start a new upload/) });
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions`)).json.versions).toEqual([]);

    const page = await v.web.post(`/products/${productId}/releases/new`, {});
    const uploadId = /\/uploads\/([0-9a-f-]{36})\/complete/.exec(page.text)![1]!;
    await app.runtime.database.db.update(uploads).set({ expiresAt: new Date(Date.now() - 60_000) }).where(eq(uploads.id, uploadId));
    const back = await v.web.get(`/products/${productId}/uploads/${uploadId}/complete`);
    expect(back.status).toBe(422);
    expect(back.text).toContain('This upload expired at');
  });

  test('the sweep deletes expired slots and their objects (finalized or not), keeps live ones, and is safe to run on several servers at once', async () => {
    const releases = app.runtime.services.releases;
    const stale = await slotWithFile('2.0');
    const staleNoFile = (await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/uploads`)).json as { key: string };
    const fresh = await slotWithFile('2.1');
    const finalized = await slotWithFile('2.2');
    expect((await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/versions`, { key: finalized.key })).status).toBe(201);
    await releases.idle();
    expect((await postToS3(finalized as never, pluginZip('slots', '2.2'))).status).toBe(204); // posted again after finalize
    for (const k of [stale.key, staleNoFile.key, finalized.key]) await expire(k, 60 * 60_000);
    // Expired a minute ago: still within the grace a running finalize may need.
    const justExpired = await slotWithFile('2.3');
    await expire(justExpired.key, 60_000);

    const [n1, n2] = await Promise.all([releases.sweepUploads(), releases.sweepUploads()]);
    expect(n1 + n2).toBeGreaterThanOrEqual(3);
    for (const k of [stale.key, staleNoFile.key, finalized.key]) {
      expect(await app.runtime.storage.head(k)).toBeNull();
      expect(await app.runtime.database.db.select().from(uploads).where(eq(uploads.s3Key, k))).toEqual([]);
    }
    for (const k of [fresh.key, justExpired.key]) {
      expect(await app.runtime.storage.head(k)).not.toBeNull();
      expect(await app.runtime.database.db.select().from(uploads).where(eq(uploads.s3Key, k))).toHaveLength(1);
    }
    // The release made from the swept slot is untouched.
    expect((await api(app.url, v.key, 'GET', `/api/v1/products/${productId}/versions/2.2`)).json).toMatchObject({ status: 'ready', live: true });
    expect(await releases.sweepUploads()).toBe(0);
  });
});
