import fs from 'node:fs';
import type { TestApp } from './app';
import { api } from './api-client';
import type { Vendor } from './fixtures';
import { postToS3 } from './releases';
import { checkerExpr } from './wp-fixtures';
import { findPhpErrors, phpString, type WordPressSite } from './wordpress';

/** Steps that join the real Wharf server and a real WordPress site: a vendor releasing, a site admin entering the code. */

/** POST /api/v1/products as the vendor; returns the product ID. */
export async function createProduct(app: TestApp, vendor: Vendor, type: 'plugin' | 'theme', slug: string, name: string): Promise<string> {
  const res = await api(app.url, vendor.key, 'POST', '/api/v1/products', { type, slug, name });
  if (res.status !== 201 || typeof res.json?.id !== 'string') throw new Error(`create ${type} ${slug}: ${res.status} ${res.text}`);
  return res.json.id;
}

/** A release the way the dashboard does it: presigned POST straight to S3, then finalize. Returns the new version's JSON. */
export async function releaseZip(app: TestApp, vendor: Vendor, productId: string, zipPath: string): Promise<{ version: string; live: boolean }> {
  const post = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/uploads`);
  if (post.status !== 201) throw new Error(`upload slot: ${post.status} ${post.text}`);
  const s3 = await postToS3(post.json, fs.readFileSync(zipPath));
  if (s3.status !== 204) throw new Error(`S3 POST: ${s3.status} ${await s3.text()}`);
  const fin = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/versions`, { key: post.json.key });
  if (fin.status !== 201) throw new Error(`finalize ${zipPath}: ${fin.status} ${fin.text}`);
  // The version is offered once its verification pass (in the app's process) succeeds.
  await app.runtime.services.releases.idle();
  const ready = await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}/versions/${fin.json.id}`);
  if (ready.json?.status !== 'ready') throw new Error(`verification of ${zipPath}: ${ready.text}`);
  return ready.json;
}

/** HTML-decoded text of a page fragment (enough for notices: entities WordPress's esc_html produces). */
export function htmlText(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&#0?39;|&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An admin page over HTTP that must render: 200 and no PHP warning in its HTML. */
export async function adminPage(site: WordPressSite, pathAndQuery: string): Promise<string> {
  const res = await site.adminFetch(pathAndQuery);
  if (res.status !== 200) throw new Error(`${pathAndQuery}: HTTP ${res.status} ${res.headers.get('location') ?? ''}\n${res.body.slice(0, 2000)}`);
  const problems = findPhpErrors(res.body);
  if (problems.length) throw new Error(`${pathAndQuery} printed PHP errors:\n${problems.join('\n')}`);
  return res.body;
}

/**
 * What a site admin does on the product's license screen: type the code, press "Save and activate"
 * (the client calls /api/v1/licenses/activate and checks for updates). Returns the screen shown after the redirect.
 */
export async function saveCodeOnLicenseScreen(site: WordPressSite, screen: string, code: string): Promise<string> {
  const form = await adminPage(site, screen);
  const nonce = /name="_wpnonce" value="([^"]+)"/.exec(form)?.[1];
  if (!nonce) throw new Error(`no license form on ${screen}:\n${form.slice(0, 2000)}`);
  const res = await site.adminFetch(screen, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _wpnonce: nonce, _wp_http_referer: screen, wharf_license: code, wharf_action: 'activate' }).toString(),
  });
  const location = res.headers.get('location') ?? '';
  if (res.status !== 302 || !location.endsWith(screen)) throw new Error(`saving the code on ${screen}: HTTP ${res.status} → ${location}\n${res.body.slice(0, 2000)}`);
  return adminPage(site, screen);
}

export interface CheckerState {
  answer: Record<string, unknown> | null;
  error: { at: number; message: string } | null;
  checkedAt: number;
}

/** What a product's checker has stored (last good answer, last error), read without asking the server. */
export function readCheckerState(site: WordPressSite, kind: 'plugin' | 'theme', productId: string): Promise<CheckerState> {
  return site.evalPhp<CheckerState>(`
    $c = ${checkerExpr(kind, productId)};
    if (!$c) { throw new Exception('no ${kind} checker for ' . ${phpString(productId)}); }
    $s = $c->state();
    return array('answer' => $c->getUpdate(), 'error' => $c->getLastError(), 'checkedAt' => (int) $s['checked_at']);`);
}

/** The texts of the client's license notices on an admin page ("<Product>: <server's sentence> <link>"). */
export function licenseNotices(html: string): string[] {
  return [...html.matchAll(/<div class="notice notice-warning wharf-license-error"><p>([\s\S]*?)<\/p><\/div>/g)].map((m) => htmlText(m[1] ?? ''));
}
