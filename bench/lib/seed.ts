/** Seeds Wharf through its real HTTP API, as a vendor would: sign up, API key, product, releases, codes. */
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import { buildZip, type FileSpec } from './zip';

export const SLUG = 'acme-forms-pro';

export class WebClient {
  private cookies = new Map<string, string>();
  private csrf = '';

  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: URLSearchParams) {
    const res = await fetch(new URL(path, this.base), {
      method,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const text = await res.text();
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(text);
    if (m?.[1]) this.csrf = m[1];
    return { status: res.status, text, location: res.headers.get('location') };
  }

  post(path: string, fields: Record<string, string>) {
    return this.request('POST', path, new URLSearchParams({ _csrf: this.csrf, ...fields }));
  }
}

export async function api(base: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { accept: 'application/json', authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

/** A vendor account and an API key, made through the dashboard pages. */
export async function newVendor(base: string): Promise<string> {
  const web = new WebClient(base);
  await web.request('GET', '/signup');
  const signup = await web.post('/signup', { email: `bench-${crypto.randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple' });
  if (signup.status !== 302) throw new Error(`sign-up: ${signup.status} ${signup.text.slice(0, 200)}`);
  await web.request('GET', '/account');
  const made = await web.post('/account/api-keys', { name: 'bench' });
  if (made.status !== 303 || !made.location) throw new Error(`API key: ${made.status}`);
  // Post/redirect/get: the key is shown once, on the page the redirect leads to.
  const m = /id="new-api-key">([^<]+)</.exec((await web.request('GET', made.location)).text);
  if (!m) throw new Error('API key: not shown after the redirect');
  return m[1]!;
}

/** A readme like a real premium plugin's: the update JSON comes out around 1.5 KB. */
export function readme(version: string): string {
  return `=== Acme Forms Pro ===
Contributors: acme
Tags: forms, contact form, surveys
Requires at least: 6.0
Tested up to: 6.5
Requires PHP: 7.4
Stable tag: ${version}
License: GPLv2 or later

Drag-and-drop forms with conditional logic, payments and spam protection.

== Description ==
Acme Forms Pro builds **contact forms, surveys and order forms** without code.

* Conditional logic on any field
* Stripe and PayPal payments
* File uploads to your media library
* Spam protection without captchas

== Installation ==
1. Upload the zip under Plugins → Add New → Upload.
2. Activate it and enter your purchase code under Settings → Acme Forms license.

== Frequently Asked Questions ==
= Does it work with multisite? =
Yes, network-activate it and enter the code once.

== Changelog ==
= 1.2.0 =
* New: payment fields for Stripe.
* Fixed: uploads larger than 8 MB.

= 1.1.0 =
* New: conditional logic.

= 1.0.0 =
* First release.

== Upgrade Notice ==
= ${version} =
Adds Stripe payments; update your webhooks afterwards.
`;
}

export function pluginFiles(version: string, slug = SLUG): FileSpec[] {
  const headers = {
    'Plugin Name': 'Acme Forms Pro',
    'Plugin URI': 'https://acme.example.com/forms',
    Description: 'Drag-and-drop forms with conditional logic and payments.',
    Version: version,
    'Requires at least': '6.0',
    'Tested up to': '6.5',
    'Requires PHP': '7.4',
    Author: 'Acme Plugins',
    'Author URI': 'https://acme.example.com',
    License: 'GPLv2 or later',
  };
  const php = `<?php\n/**\n${Object.entries(headers).map(([k, v]) => ` * ${k}: ${v}`).join('\n')}\n */\ndefined('ABSPATH') || exit;\nrequire __DIR__ . '/includes/plugin.php';\n`;
  return [
    { name: `${slug}/` },
    { name: `${slug}/${slug}.php`, data: php },
    { name: `${slug}/readme.txt`, data: readme(version) },
    { name: `${slug}/includes/` },
    { name: `${slug}/includes/plugin.php`, data: `<?php\n// Acme Forms Pro ${version}\n${'function acme_forms_noop() { return null; }\n'.repeat(40)}` },
  ];
}

export async function createProduct(base: string, key: string, slug = SLUG): Promise<string> {
  const created = await api(base, key, 'POST', '/api/v1/products', { type: 'plugin', slug, name: 'Acme Forms Pro', free: false, homepage: 'https://acme.example.com/forms', author: 'Acme Plugins' });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  return created.json.id as string;
}

interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  key: string;
}

export async function presign(base: string, key: string, productId: string): Promise<PresignedPost> {
  const res = await api(base, key, 'POST', `/api/v1/products/${productId}/uploads`);
  if (res.status !== 201) throw new Error(`presign: ${res.status} ${res.text}`);
  return res.json as PresignedPost;
}

/** POSTs a file to a presigned S3 POST as a streamed multipart body (fields first, file last). */
export function postFileToS3(post: PresignedPost, file: string): Promise<number> {
  const boundary = `----wharfbench${crypto.randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    Object.entries(post.fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="release.zip"\r\nContent-Type: application/zip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = http.request(post.url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(head);
    const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
    stream.on('error', reject);
    stream.on('end', () => req.end(tail));
    stream.pipe(req, { end: false });
  });
}

export async function finalize(base: string, key: string, productId: string, s3Key: string) {
  const res = await api(base, key, 'POST', `/api/v1/products/${productId}/versions`, { key: s3Key });
  if (res.status !== 201) throw new Error(`finalize: ${res.status} ${res.text}`);
  return res.json as { id: string; version: string; size: number; sha256: string };
}

/** Polls until the version's verification pass has decided (a version is offered only once it is ready). */
export async function waitUntilVerified(base: string, key: string, productId: string, versionId: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(base, key, 'GET', `/api/v1/products/${productId}/versions/${versionId}`);
    if (res.json?.status === 'ready') return res.json as { id: string; version: string; size: number; sha256: string };
    if (res.json?.status === 'refused') throw new Error(`version ${versionId} refused: ${res.text}`);
    if (Date.now() > deadline) throw new Error(`version ${versionId}: not verified after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** presign → POST the file to S3 → finalize → verified: the vendor's release path. */
export async function release(base: string, key: string, productId: string, file: string) {
  const post = await presign(base, key, productId);
  const status = await postFileToS3(post, file);
  if (status !== 204) throw new Error(`S3 POST answered ${status}`);
  const version = await finalize(base, key, productId, post.key);
  return waitUntilVerified(base, key, productId, version.id);
}

export async function releaseFiles(base: string, key: string, productId: string, files: FileSpec[], tmpFile: string) {
  fs.writeFileSync(tmpFile, buildZip(files));
  try {
    return await release(base, key, productId, tmpFile);
  } finally {
    fs.rmSync(tmpFile, { force: true });
  }
}

export async function createCode(base: string, key: string, productId: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(base, key, 'POST', `/api/v1/products/${productId}/purchase-codes`, body);
  if (res.status !== 201) throw new Error(`codes: ${res.status} ${res.text}`);
  return res.json.codes[0].code as string;
}

export interface Seeded {
  key: string;
  productId: string;
  validCode: string;
  expiredCode: string;
  versions: string[];
}

export const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'];

/** One vendor, one plugin with three releases, a valid code (no limits) and an expired one. */
export async function seed(base: string, tmpDir: string): Promise<Seeded> {
  const key = await newVendor(base);
  const productId = await createProduct(base, key);
  for (const v of VERSIONS) await releaseFiles(base, key, productId, pluginFiles(v), `${tmpDir}/seed-${v}.zip`);
  const validCode = await createCode(base, key, productId, {});
  const expiredCode = await createCode(base, key, productId, { expiresAt: EXPIRED_ON });
  return { key, productId, validCode, expiredCode, versions: VERSIONS };
}

/** The expired code's last day, and release dates around it: 1.0.0 stays entitled, 1.1.0 and 1.2.0 do not. */
export const EXPIRED_ON = '2025-03-31';
export const BACKDATED: Record<string, string> = { '1.0.0': '2025-01-15T10:00:00Z', '1.1.0': '2025-06-15T10:00:00Z' };
