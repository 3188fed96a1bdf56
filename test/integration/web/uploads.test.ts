import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { products as productsTable, versions as versionsTable } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { api, createApiKey } from '../../support/api-client';
import { fetchJson } from '../../support/fixtures';
import { pluginZip, postToS3, README, themeZip } from '../../support/releases';
import { WebClient } from '../../support/web-client';
import { buildZip, phpWithHeaders, zipBombEntry } from '../../support/zip-builder';

async function newProduct(web: WebClient, type: 'plugin' | 'theme', slug: string) {
  await web.get('/products/new');
  const res = await web.post('/products', { type, slug, name: `Product ${slug}` });
  return /\/products\/([0-9a-f-]{36})/.exec(res.location!)![1]!;
}

/** The JavaScript path of the upload page: presign, POST the bytes to S3, finalize, then the verification pass. */
async function uploadLikeTheBrowser(app: TestApp, web: WebClient, productId: string, zip: Buffer) {
  await web.get(`/products/${productId}/releases/new`);
  const presign = await web.postJson(`/products/${productId}/uploads`);
  expect(presign.status).toBe(201);
  const post = JSON.parse(presign.text);
  const s3 = await postToS3(post, zip);
  expect(s3.status).toBe(204);
  const fin = await web.postJson(`/products/${productId}/uploads/${post.uploadId}/finalize`);
  await app.runtime.services.releases.idle();
  return { status: fin.status, body: JSON.parse(fin.text), key: post.key as string };
}

/** Where a released version's bytes live (a copy, not the upload object). */
async function releaseKeyOf(app: TestApp, productId: string, version: string): Promise<string> {
  const rows = await app.runtime.database.db.select({ key: versionsTable.s3Key }).from(versionsTable).where(and(eq(versionsTable.productId, productId), eq(versionsTable.version, version)));
  return rows[0]!.key;
}

/** The no-JavaScript upload page: "Start upload" makes the slot, then the form that posts to S3. */
async function startUploadWithoutJs(web: WebClient, productId: string) {
  await web.get(`/products/${productId}/releases/new`);
  const page = await web.post(`/products/${productId}/releases/new`, {});
  expect(page.status).toBe(200);
  const form = /<form id="upload-form"[\s\S]*?<\/form>/.exec(page.text)![0];
  const action = /<form id="upload-form" method="post" action="([^"]+)"/.exec(form)![1]!;
  const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&#34;/g, '"').replace(/&amp;/g, '&')]));
  return { action, fields };
}

describe.each(DB_KINDS)('releases uploaded straight to S3 (%s)', (db) => {
  let app: TestApp;
  let web: WebClient;
  beforeAll(async () => {
    app = await startTestApp({ db });
    web = new WebClient(app.url);
    await web.signUp(`uploads-${db}@example.com`);
  });
  afterAll(() => app.stop());

  test('presign → POST to S3 → finalize → verification records the version with size, sha256 and readme data', async () => {
    const id = await newProduct(web, 'plugin', 'acme-seo');
    const zip = pluginZip('acme-seo', '1.0', { readme: README });
    const up = await uploadLikeTheBrowser(app, web, id, zip);
    expect(up).toMatchObject({ status: 201, body: { version: '1.0', status: 'verifying' } });
    expect(up.key).toMatch(new RegExp(`^vendors/[0-9a-f-]{36}/products/${id}/releases/[0-9a-f-]{36}\\.zip$`));

    // The checksum is computed by the verification pass, in the same stream.
    const page = await web.get(`/products/${id}`);
    expect(page.text).toContain('data-version="1.0"');
    expect(page.text).toContain(crypto.createHash('sha256').update(zip).digest('hex'));

    const key = await createApiKey(web);
    const versions = await api(app.url, key, 'GET', `/api/v1/products/${id}/versions`);
    expect(versions.json.versions).toEqual([
      expect.objectContaining({ version: '1.0', live: true, status: 'ready', reasons: [], size: zip.length, sha256: crypto.createHash('sha256').update(zip).digest('hex'), requires: '5.8', tested: '6.4', requires_php: '7.4' }),
    ]);
    // The bytes were copied in S3 to a release key under versions/, and the upload object is gone.
    const released = await releaseKeyOf(app, id, '1.0');
    expect(released).toMatch(new RegExp(`^vendors/[0-9a-f-]{36}/products/${id}/versions/[0-9a-f-]{36}-[0-9a-f]{16}\\.zip$`));
    expect((await app.runtime.storage.head(released))?.size).toBe(zip.length);
    expect(await app.runtime.storage.head(up.key)).toBeNull();
  });

  test('a verification a crash left unfinished is resumed by the sweeper; until then the version is not offered', async () => {
    const id = await newProduct(web, 'plugin', 'acme-crash');
    await uploadLikeTheBrowser(app, web, id, pluginZip('acme-crash', '1.0'));
    const zip = pluginZip('acme-crash', '1.1');
    await uploadLikeTheBrowser(app, web, id, zip);
    const key = await createApiKey(web);
    const code = (await api(app.url, key, 'POST', `/api/v1/products/${id}/purchase-codes`, {})).json.codes[0].code;
    const downloadUrl = (await fetchJson(`${app.url}/api/v1/updates/${id}?license=${code}`)).json.download_url;
    const v11 = (await api(app.url, key, 'GET', `/api/v1/products/${id}/versions/1.1`)).json;
    const v10 = (await api(app.url, key, 'GET', `/api/v1/products/${id}/versions/1.0`)).json;
    // What a server that died mid-pass leaves: 1.1 verifying, 1.0 still live, a heartbeat long gone.
    const db = app.runtime.database.db;
    await db.update(versionsTable).set({ status: 'verifying', sha256: null, verifiedBytes: 0, verifyHeartbeatAt: new Date(Date.now() - 3600_000) }).where(eq(versionsTable.id, v11.id));
    await db.update(productsTable).set({ liveVersionId: v10.id }).where(eq(productsTable.id, id));
    app.runtime.services.catalog.invalidateProduct(id);

    expect((await fetchJson(`${app.url}/api/v1/updates/${id}`)).json.version).toBe('1.0');
    expect((await fetchJson(downloadUrl)).status).toBe(404); // a link issued for 1.1 does not download it while it is unverified
    expect((await api(app.url, key, 'GET', `/api/v1/products/${id}/versions/1.1`)).json).toMatchObject({ status: 'verifying', live: false });
    expect((await web.get(`/products/${id}`)).text).toMatch(/data-version="1\.1" data-status="verifying"[\s\S]*?verifying 0%/);
    const early = await api(app.url, key, 'POST', `/api/v1/products/${id}/versions/1.1/live`);
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe('version_not_ready');

    expect(await app.runtime.services.releases.resumeVerification()).toBe(1);
    await app.runtime.services.releases.idle();
    expect((await api(app.url, key, 'GET', `/api/v1/products/${id}/versions/1.1`)).json).toMatchObject({ status: 'ready', live: true, sha256: crypto.createHash('sha256').update(zip).digest('hex') });
    app.runtime.services.catalog.invalidateProduct(id);
    expect((await fetchJson(`${app.url}/api/v1/updates/${id}`)).json.version).toBe('1.1');
    // A fresh heartbeat means another server is on it: nothing to resume.
    expect(await app.runtime.services.releases.resumeVerification()).toBe(0);
  });

  test('a refused zip is deleted from S3 and the reason is given exactly', async () => {
    const id = await newProduct(web, 'plugin', 'acme-cache');
    const bad = buildZip([{ name: 'acme-cache-1.2/' }, { name: 'acme-cache-1.2/acme-cache.php', data: phpWithHeaders({ 'Plugin Name': 'Cache', Version: '1.2' }) }]);
    const up = await uploadLikeTheBrowser(app, web, id, bad);
    expect(up.status).toBe(422);
    expect(up.body.error.reasons.join(' ')).toMatch(/"acme-cache-1\.2".*"acme-cache"/);
    expect(await app.runtime.storage.head(up.key)).toBeNull();
    expect((await web.get(`/products/${id}`)).text).not.toContain('data-version=');

    const bomb = buildZip([{ name: 'acme-cache/' }, { name: 'acme-cache/acme-cache.php', data: phpWithHeaders({ 'Plugin Name': 'Cache', Version: '2.0' }) }, zipBombEntry('acme-cache/zeros.bin', 200)]);
    const refused = await uploadLikeTheBrowser(app, web, id, bomb);
    expect(refused.status).toBe(422);
    expect(refused.body.error.reasons.join(' ')).toMatch(/compress|ratio|uncompressed/i);
    expect(await app.runtime.storage.head(refused.key)).toBeNull();
  });

  test('without JavaScript: Start upload, the form posts to S3, S3 redirects back, and the release is finalized and verified', async () => {
    const id = await newProduct(web, 'theme', 'harbor');
    const { action, fields } = await startUploadWithoutJs(web, id);
    expect(fields._csrf).toBeUndefined(); // the S3 form carries no Wharf secret
    expect(fields.success_action_redirect).toMatch(new RegExp(`^${app.url}/products/${id}/uploads/[0-9a-f-]{36}/complete$`));
    const s3 = await postToS3({ url: action, fields }, themeZip('harbor', '2.0'));
    expect(s3.status).toBe(303);
    const back = new URL(s3.headers.get('location')!);
    const done = await web.get(back.pathname + back.search);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`/products/${id}`);
    const shown = await web.get(done.location!);
    expect(shown.text).toMatch(/data-version="2\.0"[^>]*class="live"/);
    expect(shown.text).toContain('Version 2.0 uploaded and checked.');

    // The same flow with a bad zip lands back on the upload page with the reason.
    const again = await startUploadWithoutJs(web, id);
    const s3b = await postToS3({ url: again.action, fields: again.fields }, themeZip('harbor', '2.0'));
    const back2 = new URL(s3b.headers.get('location')!);
    const refused = await web.get(back2.pathname + back2.search);
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Version 2.0 is already released');
  });

  test('versions are kept: an older one can be made live (rollback) and a non-live one deleted with its object', async () => {
    const id = await newProduct(web, 'plugin', 'acme-roll');
    const keys: Record<string, string> = {};
    for (const v of ['1.0', '1.1', '1.2']) {
      await uploadLikeTheBrowser(app, web, id, pluginZip('acme-roll', v));
      keys[v] = await releaseKeyOf(app, id, v);
    }
    let page = await web.get(`/products/${id}`);
    expect(page.text).toMatch(/data-version="1\.2"[^>]*class="live"/);

    const live11 = /data-version="1\.1"[\s\S]*?action="(\/products\/[^"]+\/versions\/[0-9a-f-]{36}\/live)"/.exec(page.text)![1]!;
    expect((await web.post(live11)).status).toBe(303);
    page = await web.get(`/products/${id}`);
    expect(page.text).toMatch(/data-version="1\.1"[^>]*class="live"/);

    // The live version cannot be deleted; 1.2 (no longer live) can, and its object goes too.
    const del12 = /data-version="1\.2"[\s\S]*?action="(\/products\/[^"]+\/versions\/[0-9a-f-]{36}\/delete)"/.exec(page.text)![1]!;
    expect((await web.post(del12)).status).toBe(303);
    expect(await app.runtime.storage.head(keys['1.2']!)).toBeNull();
    expect(await app.runtime.storage.head(keys['1.1']!)).not.toBeNull();

    const key = await createApiKey(web);
    const live = await api(app.url, key, 'DELETE', `/api/v1/products/${id}/versions/1.1`);
    expect(live.status).toBe(409);
    expect(live.json.error.code).toBe('version_live');
    // Backfilling an older version does not change what is live.
    await uploadLikeTheBrowser(app, web, id, pluginZip('acme-roll', '0.9'));
    const list = await api(app.url, key, 'GET', `/api/v1/products/${id}/versions`);
    expect(list.json.versions.map((v: any) => `${v.version}${v.live ? '*' : ''}`)).toEqual(['1.1*', '1.0', '0.9']);
  });

  test('the vendor API runs the same pipeline: uploads → S3 → versions, with 422 reasons', async () => {
    const key = await createApiKey(web, 'ci');
    const product = await api(app.url, key, 'POST', '/api/v1/products', { type: 'plugin', name: 'API Plugin', slug: 'api-plugin' });
    const post = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/uploads`);
    expect(post.status).toBe(201);
    expect(await postToS3(post.json, pluginZip('api-plugin', '3.0.1'))).toMatchObject({ status: 204 });
    const v = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: post.json.key });
    expect(v.status).toBe(201);
    expect(v.json).toMatchObject({ version: '3.0.1', status: 'verifying', live: false });
    await app.runtime.services.releases.idle();
    expect((await api(app.url, key, 'GET', `/api/v1/products/${product.json.id}/versions/${v.json.id}`)).json).toMatchObject({ version: '3.0.1', status: 'ready', live: true });
    const again = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: post.json.key });
    expect(again.status).toBe(409);

    const post2 = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/uploads`);
    await postToS3(post2.json, buildZip([{ name: 'api-plugin/' }, { name: 'api-plugin/readme.txt', data: 'hi' }]));
    const refused = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: post2.json.key });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('package_rejected');
    expect(refused.json.error.reasons.join(' ')).toMatch(/Plugin Name/);

    const post3 = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/uploads`);
    const nothing = await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: post3.json.key });
    expect(nothing.status).toBe(422);
    expect(nothing.json.error.message).toMatch(/No file arrived/);
    expect((await api(app.url, key, 'POST', `/api/v1/products/${product.json.id}/versions`, { key: 'vendors/other/key.zip' })).status).toBe(404);
  });
});

test('the presigned POST policy carries the key, size range, content type and a 15-minute expiry', async () => {
  const app = await startTestApp({ env: { MAX_UPLOAD_BYTES: String(5 * 1024 * 1024) } });
  try {
    const web = new WebClient(app.url);
    await web.signUp('policy@example.com');
    const id = await newProduct(web, 'plugin', 'policy-check');
    await web.get(`/products/${id}/releases/new`);
    const before = Date.now();
    const post = JSON.parse((await web.postJson(`/products/${id}/uploads`)).text);
    const policy = JSON.parse(Buffer.from(post.fields.Policy, 'base64').toString('utf8'));
    const expires = Date.parse(policy.expiration);
    expect(expires - before).toBeGreaterThan(14.5 * 60_000);
    expect(expires - before).toBeLessThan(15.5 * 60_000);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { key: post.key },
        { bucket: 'wharf' },
        ['content-length-range', 1, 5 * 1024 * 1024],
        ['eq', '$Content-Type', 'application/zip'],
      ]),
    );
    expect(post.fields['Content-Type']).toBe('application/zip');
    expect(post.fields.key).toBe(post.key);
    expect(post.key.startsWith(`vendors/`)).toBe(true);
    expect(post.key).toContain(`/products/${id}/releases/`);
    expect(post.fields['X-Amz-Algorithm']).toBe('AWS4-HMAC-SHA256');
    expect(post.fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await app.stop();
  }
});
