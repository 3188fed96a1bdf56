import { and, eq } from 'drizzle-orm';
import { versions } from '../../src/db/schema';
import type { TestApp } from './app';
import { api, createApiKey } from './api-client';
import { pluginZip, postToS3, README, themeZip } from './releases';
import { WebClient } from './web-client';

export interface Vendor {
  web: WebClient;
  key: string;
}

let counter = 0;

export async function newVendor(app: TestApp, name = 'vendor'): Promise<Vendor> {
  const web = new WebClient(app.url);
  await web.signUp(`${name}-${Date.now()}-${counter++}@example.com`);
  return { web, key: await createApiKey(web) };
}

/** A product with the given versions released in order (the last one ends up live). */
export async function productWithReleases(app: TestApp, v: Vendor, opts: { type?: 'plugin' | 'theme'; slug: string; versions: string[]; free?: boolean; readme?: boolean }) {
  const type = opts.type ?? 'plugin';
  const created = await api(app.url, v.key, 'POST', '/api/v1/products', { type, slug: opts.slug, name: `Product ${opts.slug}`, free: opts.free ?? false, homepage: 'https://acme.test/p', author: 'Acme' });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  const id: string = created.json.id;
  const zips: Record<string, Buffer> = {};
  for (const version of opts.versions) {
    const zip = type === 'theme' ? themeZip(opts.slug, version) : pluginZip(opts.slug, version, opts.readme ? { readme: README } : {});
    zips[version] = zip;
    const post = await api(app.url, v.key, 'POST', `/api/v1/products/${id}/uploads`);
    const s3 = await postToS3(post.json, zip);
    if (s3.status !== 204) throw new Error(`s3: ${s3.status}`);
    const fin = await api(app.url, v.key, 'POST', `/api/v1/products/${id}/versions`, { key: post.json.key });
    if (fin.status !== 201) throw new Error(`finalize ${version}: ${fin.status} ${fin.text}`);
    // Offered only once the verification pass succeeds (it runs in this process).
    await app.runtime.services.releases.idle();
    const ready = await api(app.url, v.key, 'GET', `/api/v1/products/${id}/versions/${version}`);
    if (ready.json?.status !== 'ready') throw new Error(`verification of ${version}: ${ready.text}`);
  }
  return { id, zips };
}

/** Backdate a release (test setup for expiry rules) and drop cached copies of the product. */
export async function setReleasedAt(app: TestApp, productId: string, version: string, when: Date): Promise<void> {
  const db = app.runtime.database.db;
  const rows = await db.update(versions).set({ releasedAt: when }).where(and(eq(versions.productId, productId), eq(versions.version, version))).returning({ productId: versions.productId });
  if (!rows.length) throw new Error(`no version ${version}`);
  app.runtime.services.catalog.invalidateProduct(productId);
}

export async function createCodes(app: TestApp, v: Vendor, productId: string, body: Record<string, unknown> = {}): Promise<string[]> {
  const res = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/purchase-codes`, body);
  if (res.status !== 201) throw new Error(`codes: ${res.status} ${res.text}`);
  return res.json.codes.map((c: { code: string }) => c.code);
}

export function updateCheck(app: TestApp, productId: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const qs = new URLSearchParams(params).toString();
  return fetchJson(`${app.url}/api/v1/updates/${productId}${qs ? `?${qs}` : ''}`, { headers });
}

export async function fetchJson(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}
