import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { newVendor, productWithReleases, type Vendor } from '../../support/fixtures';
import { WebClient } from '../../support/web-client';

/**
 * helmet's headers on the app's responses: a CSP without inline script that lets the browser
 * upload straight to S3, no framing (except the public details pages WordPress frames), nosniff,
 * Referrer-Policy, and HSTS only for requests that came over TLS.
 */

function directives(csp: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (csp ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

/** Inline script, event-handler attributes, javascript: URLs and style attributes: all refused by the CSP. */
function inlineCode(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<script\b[^>]*>/gi)) if (!/\bsrc=/.test(m[0])) found.push(m[0]);
  for (const m of html.matchAll(/<[a-z][^>]*\s(on[a-z]+|style)\s*=/gi)) found.push(m[0]);
  for (const m of html.matchAll(/(?:href|src|action)\s*=\s*"\s*javascript:/gi)) found.push(m[0]);
  return found;
}

describe('the embedded setup', () => {
  let app: TestApp;
  let vendor: Vendor;
  let productId: string;
  let uploadOrigin: string;

  beforeAll(async () => {
    app = await startTestApp();
    vendor = await newVendor(app);
    productId = (await productWithReleases(app, vendor, { slug: 'headers-plugin', versions: ['1.0'], readme: true })).id;
    uploadOrigin = new URL((await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/uploads`)).json.url).origin;
  });
  afterAll(() => app.stop());

  test('dashboard pages: strict CSP naming the S3 origin for uploads, no framing, nosniff, same-origin referrers, no HSTS over HTTP', async () => {
    await vendor.web.get(`/products/${productId}/releases/new`);
    // "Start upload" (the no-JavaScript path) answers the page whose form posts straight to S3.
    const res = await vendor.web.post(`/products/${productId}/releases/new`, {});
    expect(res.status).toBe(200);
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('script-src-attr')).toEqual(["'none'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'", uploadOrigin]);
    expect(csp.get('form-action')).toEqual(["'self'", uploadOrigin]);
    expect(res.text).toContain(`action="${uploadOrigin}/`); // the no-JavaScript form posts there
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  test('the details page stays framable from any site and keeps the rest', async () => {
    const res = await fetch(`${app.url}/details/${productId}`);
    expect(res.status).toBe(200);
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.has('frame-ancestors')).toBe(false);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    expect(inlineCode(await res.text())).toEqual([]);
    // An unknown details page is framable too (it is the same iframe), but other pages are not.
    expect((await fetch(`${app.url}/details/00000000-0000-4000-8000-000000000000`)).headers.get('x-frame-options')).toBeNull();
    expect((await fetch(`${app.url}/detailsx`)).headers.get('x-frame-options')).toBe('DENY');
  });

  test('API answers, assets and error pages carry the headers too', async () => {
    const apiRes = await api(app.url, vendor.key, 'GET', '/api/v1/products');
    expect(apiRes.headers.get('x-content-type-options')).toBe('nosniff');
    expect(directives(apiRes.headers.get('content-security-policy')).get('frame-ancestors')).toEqual(["'none'"]);
    const page = await vendor.web.get('/products');
    const asset = /href="(\/assets\/app\.[0-9a-f]+\.css)"/.exec(page.text)![1]!;
    const css = await fetch(`${app.url}${asset}`);
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    const missing = await vendor.web.get('/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-frame-options')).toBe('DENY');
  });

  test('no page has inline script, event handlers, javascript: URLs or style attributes', async () => {
    const web = vendor.web;
    const codes = await api(app.url, vendor.key, 'POST', `/api/v1/products/${productId}/purchase-codes`, { count: 2, note: 'headers' });
    const codeId = codes.json.codes[0].id;
    await web.get(`/products/${productId}/codes/new`);
    const batch = await web.post(`/products/${productId}/codes`, { count: '2' });
    const pages = [
      '/products',
      '/products/new',
      `/products/${productId}`,
      `/products/${productId}/edit`,
      `/products/${productId}/releases/new`,
      `/products/${productId}/codes`,
      `/products/${productId}/codes/new`,
      `/products/${productId}/codes/${codeId}`,
      batch.location!,
      '/account',
      '/notifications',
      '/no-such-page',
    ];
    for (const path of pages) {
      const res = await web.get(path);
      expect({ path, inline: inlineCode(res.text) }).toEqual({ path, inline: [] });
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    const anonymous = new WebClient(app.url);
    for (const path of ['/login', '/signup', '/login?oauth=denied&provider=github']) {
      expect({ path, inline: inlineCode((await anonymous.get(path)).text) }).toEqual({ path, inline: [] });
    }
    // Forms re-rendered with errors too.
    await anonymous.get('/signup');
    expect(inlineCode((await anonymous.post('/signup', { email: 'x', password: 'y' })).text)).toEqual([]);
  });

  test('HSTS only when the request came over TLS, as told by a trusted proxy', async () => {
    // TRUST_PROXY is 0 here: a client's own X-Forwarded-Proto proves nothing.
    expect((await fetch(`${app.url}/login`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    const proxied = await startTestApp({ env: { TRUST_PROXY: '1' } });
    try {
      const tls = await fetch(`${proxied.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
      expect(tls.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      const details = await fetch(`${proxied.url}/details/${productId}`, { headers: { 'x-forwarded-proto': 'https' } });
      expect(details.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect((await fetch(`${proxied.url}/login`, { headers: { 'x-forwarded-proto': 'http' } })).headers.get('strict-transport-security')).toBeNull();
    } finally {
      await proxied.stop();
    }
  });
});

test('with a real bucket the CSP names its public endpoint (or the AWS bucket URL) and the OAuth providers', async () => {
  const base = { S3_ACCESS_KEY_ID: 'AKIAEXAMPLE', S3_SECRET_ACCESS_KEY: 'example-secret', GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret' };
  const configs: [Record<string, string>, string][] = [
    [{ S3_BUCKET: 'acme-releases', S3_ENDPOINT: 'http://127.0.0.1:1', S3_PUBLIC_ENDPOINT: 'https://uploads.acme.test' }, 'https://uploads.acme.test'],
    [{ S3_BUCKET: 'acme-releases', S3_ENDPOINT: 'https://minio.acme.test:9000' }, 'https://minio.acme.test:9000'],
    [{ S3_BUCKET: 'acme-releases', S3_REGION: 'eu-west-1' }, 'https://acme-releases.s3.eu-west-1.amazonaws.com'],
  ];
  for (const [env, origin] of configs) {
    const app = await startTestApp({ env: { ...base, ...env } });
    try {
      const csp = directives((await fetch(`${app.url}/login`)).headers.get('content-security-policy'));
      expect({ env, connect: csp.get('connect-src') }).toEqual({ env, connect: ["'self'", origin] });
      expect({ env, form: csp.get('form-action') }).toEqual({ env, form: ["'self'", origin, 'https://github.com'] });
    } finally {
      await app.stop();
    }
  }
});
