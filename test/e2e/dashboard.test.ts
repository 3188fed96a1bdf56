import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { launchBrowser, screenshot, throttleUploads, withScreenshotOnFailure, type TestBrowser } from '../support/browser';
import { uploads } from '../../src/db/schema';
import { pluginZip } from '../support/releases';
import { ATTACKS } from '../support/zip-attacks';

/**
 * The vendor dashboard in real headless Chromium against the real app and embedded S3: sign up,
 * create a plugin, upload releases through the upload page (with and without JavaScript), switch
 * the live version, and see a refused zip explained.
 */

const SLUG = 'acme-browser';
let app: TestApp;
let browser: TestBrowser;
let work: string;
let page: Page;
let context: BrowserContext;
let productId: string;
/** Every Content-Security-Policy violation any watched page reported (console or event). */
const cspViolations: string[] = [];
/** Every console error and uncaught exception of a watched page (a missing favicon's 404 included). */
const consoleErrors: string[] = [];
/** A refused zip is answered 422 on purpose, and Chromium logs every 4xx answer to fetch/XHR as a console error. */
const expectedConsoleError = (text: string, url: string) => /status of 422/.test(text) && /\/uploads\/[0-9a-f-]{36}\/finalize$/.test(url);

async function watchCsp(ctx: BrowserContext): Promise<void> {
  await ctx.exposeBinding('__wharfCsp', (src, text: string) => void cspViolations.push(`${src.page.url()}: ${text}`));
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __wharfCsp(t: string): void }).__wharfCsp(`${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  ctx.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(`${m.page()?.url()}: ${m.text()}`);
    if (m.type() === 'error' && !expectedConsoleError(m.text(), m.location().url)) consoleErrors.push(`${m.page()?.url()}: ${m.text()} (${m.location().url})`);
  });
  ctx.on('weberror', (e) => void consoleErrors.push(`${e.page()?.url()}: uncaught ${e.error().message}`));
}

/** A real plugin zip on disk; with `blobBytes`, an incompressible stored file makes it that much bigger. */
function zipFile(name: string, slug: string, version: string, blobBytes = 0): string {
  const extra = blobBytes ? [{ name: `${slug}/assets/blob.bin`, data: crypto.randomBytes(blobBytes), method: 0 }] : [];
  const file = path.join(work, name);
  fs.writeFileSync(file, pluginZip(slug, version, { name: 'Acme Browser', extra }));
  return file;
}

const productUrl = () => new RegExp(`/products/${productId}$`);

async function versionRow(p: Page, version: string) {
  const row = p.locator(`table.versions tr[data-version="${version}"]`);
  await row.waitFor();
  return row;
}

async function liveVersions(p: Page): Promise<string[]> {
  return p.locator('table.versions tr:has(.badge.live)').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version') ?? ''));
}

interface UploadTrace {
  progress: number[];
  status: string[];
}

const traces = new WeakMap<Page, UploadTrace>();

/**
 * Records every value of #upload-progress and #upload-status from inside the page. The page leaves
 * for the product page right after the upload, so each change is reported to the test at once.
 */
async function traceUpload(p: Page): Promise<UploadTrace> {
  if (!traces.has(p)) {
    await p.exposeBinding('__wharfTrace', (_src, kind: 'progress' | 'status', value: string) => {
      const trace = traces.get(p)!;
      if (kind === 'progress') trace.progress.push(Number(value));
      else trace.status.push(value);
    });
  }
  const trace: UploadTrace = { progress: [], status: [] };
  traces.set(p, trace);
  await p.evaluate(() => {
    const report = (window as unknown as { __wharfTrace(kind: string, value: string): void }).__wharfTrace;
    const bar = document.getElementById('upload-progress') as HTMLProgressElement;
    const status = document.getElementById('upload-status') as HTMLElement;
    // HTMLProgressElement.value reflects the content attribute, so attribute changes catch every write.
    new MutationObserver(() => report('progress', String(bar.value))).observe(bar, { attributes: true, attributeFilter: ['value'] });
    new MutationObserver(() => report('status', status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
  });
  return trace;
}

/** Uploads through the JavaScript path and waits for the product page. */
async function uploadWithJs(file: string): Promise<UploadTrace> {
  await page.goto(`${app.url}/products/${productId}/releases/new`);
  const trace = await traceUpload(page);
  await page.setInputFiles('#file', file);
  await Promise.all([page.waitForURL(productUrl()), page.click('#upload-form button[type=submit]')]);
  return trace;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-dashboard-'));
  // Both start together; whichever succeeded is kept so afterAll stops it even if the other failed.
  const [a, b] = await Promise.allSettled([startTestApp(), launchBrowser()]);
  if (a.status === 'fulfilled') app = a.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  page = await browser.newPage();
  context = page.context();
  await watchCsp(context);
}, 120_000); // PGlite's start alone takes 15-45 s on a loaded 2-CPU machine.

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('signs up and creates a plugin', async () => {
  await withScreenshotOnFailure(page, 'signup', async () => {
    await page.goto(`${app.url}/signup`);
    await page.fill('#email', `vendor-${crypto.randomUUID()}@example.test`);
    await page.fill('#password', 'correct horse battery staple');
    await Promise.all([page.waitForURL(`${app.url}/products`), page.click('form[action="/signup"] button[type=submit]')]);

    await page.goto(`${app.url}/products/new`);
    await page.check('input[name=type][value=plugin]');
    await page.fill('#slug', SLUG);
    await page.fill('#name', 'Acme Browser');
    await Promise.all([page.waitForURL(/\/products\/[0-9a-f-]{36}$/), page.click('form[action="/products"] button[type=submit]')]);
    productId = new URL(page.url()).pathname.split('/')[2]!;
    await expect(page.locator('h1').textContent()).resolves.toBe('Acme Browser');
    await expect(page.locator('.empty').textContent()).resolves.toContain('No release yet');
  });
});

it('uploads a 3 MB zip with a moving progress bar, then lists 1.0 as live', async () => {
  await withScreenshotOnFailure(page, 'upload-1.0', async () => {
    // ~1.5 s at 2 MB/s: long enough for several of Chromium's upload-progress reports.
    const unthrottle = await throttleUploads(page, 2 * 1024 * 1024);
    const trace = await uploadWithJs(zipFile('v1.0.zip', SLUG, '1.0', 3_000_000)).finally(unthrottle);

    // The bar moved: some value strictly between 0 and 100, and it ended full.
    expect(trace.progress.some((v) => v > 0 && v < 100)).toBe(true);
    expect(trace.progress.at(-1)).toBe(100);
    expect(trace.status).toContainEqual(expect.stringMatching(/^Uploading… \d+% \(\d+\.\d of 2\.9 MB\)$/));
    expect(trace.status).toContain('Checking the zip…');
    expect(trace.status.at(-1)).toBe('Released 1.0.');

    await expect(page.locator('.alert.ok').textContent()).resolves.toBe('Version 1.0 uploaded and checked.');
    const row = await versionRow(page, '1.0');
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('2.86 MB');
    await expect(liveVersions(page)).resolves.toEqual(['1.0']);
  });
});

it('uploads 1.1, which becomes live, and makes 1.0 live again', async () => {
  await withScreenshotOnFailure(page, 'make-live', async () => {
    const trace = await uploadWithJs(zipFile('v1.1.zip', SLUG, '1.1'));
    expect(trace.status.at(-1)).toBe('Released 1.1.');
    await versionRow(page, '1.1');
    await expect(liveVersions(page)).resolves.toEqual(['1.1']);
    await expect((await versionRow(page, '1.1')).getByRole('button', { name: 'Make live' }).count()).resolves.toBe(0);

    const old = await versionRow(page, '1.0');
    page.once('dialog', (d) => void d.accept());
    await old.getByRole('button', { name: 'Make live' }).click();
    await page.locator('.alert.ok', { hasText: 'Version 1.0 is now live.' }).waitFor();
    await expect(liveVersions(page)).resolves.toEqual(['1.0']);
    await expect((await versionRow(page, '1.1')).getByRole('button', { name: 'Make live' }).count()).resolves.toBe(1);
    await screenshot(page, 'product-page');
  });
});

it('explains a refused zip (wrong top folder) on the upload page without leaving it', async () => {
  await withScreenshotOnFailure(page, 'refused', async () => {
    const uploadPage = `${app.url}/products/${productId}/releases/new`;
    await page.goto(uploadPage);
    const trace = await traceUpload(page);
    await page.setInputFiles('#file', zipFile('wrong.zip', 'someone-else', '1.2'));
    await page.click('#upload-form button[type=submit]');

    const error = page.locator('#upload-js-error');
    await error.waitFor({ state: 'visible' });
    await expect(error.locator('strong').textContent()).resolves.toBeTruthy();
    await expect(error.locator('li').allTextContents()).resolves.toContainEqual(expect.stringContaining(SLUG));
    expect(page.url()).toBe(uploadPage);
    // The bytes reached S3 (100%), then the refusal hid the bar so it cannot read as success.
    expect(trace.progress).toContain(100);
    expect(trace.progress.at(-1)).toBe(0);
    await expect(page.locator('#upload-form .progress').isHidden()).resolves.toBe(true);
    await expect(error.locator('strong').textContent()).resolves.toBe('The upload was refused.');
    await expect(page.locator('#upload-status').textContent()).resolves.toBe('');
    await expect(page.locator('#upload-form button[type=submit]').isEnabled()).resolves.toBe(true);
    await screenshot(page, 'upload-refused');

    // Nothing was released.
    await page.goto(`${app.url}/products/${productId}`);
    const listed = await page.locator('table.versions tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version')));
    expect(listed.sort()).toEqual(['1.0', '1.1']);
  });
});

it('without JavaScript, Start upload shows a form that posts straight to S3, whose redirect lands on the product page', async () => {
  const noJs = await browser.newPage({ javaScriptEnabled: false, storageState: await context.storageState() });
  noJs.context().on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(`${noJs.url()}: ${m.text()}`);
  });
  try {
    await withScreenshotOnFailure(noJs, 'no-js-upload', async () => {
      const slots = async () => (await app.runtime.database.db.select().from(uploads)).length;
      const before = await slots();
      await noJs.goto(`${app.url}/products/${productId}/releases/new`);
      expect(await slots()).toBe(before); // opening the page makes no upload slot
      await expect(noJs.locator('#file').isVisible()).resolves.toBe(false);
      const started = noJs.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/releases/new'));
      await noJs.click('#upload-form button[type=submit]');
      expect((await started).status()).toBe(200);
      expect(await slots()).toBe(before + 1);
      const action = await noJs.locator('#upload-form').getAttribute('action');
      expect(new URL(action!).origin).not.toBe(new URL(app.url).origin);
      await noJs.setInputFiles('#file', zipFile('v2.0.zip', SLUG, '2.0'));

      // Watch the hops: the form goes to S3, S3 redirects to /complete, which redirects to the product.
      const posted = noJs.waitForRequest((req) => req.method() === 'POST' && req.url().startsWith(action!));
      await Promise.all([noJs.waitForURL(productUrl()), noJs.click('#upload-form button[type=submit]')]);
      const s3Response = await (await posted).response();
      expect(s3Response?.status()).toBe(303);
      expect(s3Response?.headers().location).toMatch(new RegExp(`^${app.url}/products/${productId}/uploads/[^/]+/complete`));

      await expect(noJs.locator('.alert.ok').textContent()).resolves.toBe('Version 2.0 uploaded and checked.');
      await versionRow(noJs, '2.0');
      await expect(noJs.locator('table.versions tbody tr').count()).resolves.toBe(3);
    });
  } finally {
    await noJs.context().close();
  }
});

it('follows the verification pass after the upload: a zip whose local header hides another path is refused with the reason', async () => {
  await withScreenshotOnFailure(page, 'verification-refused', async () => {
    const file = path.join(work, 'crafted.zip');
    fs.writeFileSync(file, ATTACKS.localName.build(SLUG, '3.0'));
    const uploadPage = `${app.url}/products/${productId}/releases/new`;
    await page.goto(uploadPage);
    const trace = await traceUpload(page);
    await page.setInputFiles('#file', file);
    await page.click('#upload-form button[type=submit]');

    const error = page.locator('#upload-js-error');
    await error.waitFor({ state: 'visible' });
    await expect(error.locator('strong').textContent()).resolves.toBe('The upload was refused.');
    await expect(error.locator('li').allTextContents()).resolves.toContainEqual(expect.stringMatching(/names a different file, "\.\.\/\.\.\/evil\.php"/));
    expect(trace.status).toContain('Checking the zip…');
    expect(page.url()).toBe(uploadPage);

    // Listed as refused with the reason; the live version did not move.
    await page.goto(`${app.url}/products/${productId}`);
    const row = await versionRow(page, '3.0');
    await expect(row.getAttribute('data-status')).resolves.toBe('refused');
    await expect(row.locator('ul.reasons li').allTextContents()).resolves.toContainEqual(expect.stringMatching(/evil\.php/));
    await expect(row.getByRole('button', { name: 'Make live' }).count()).resolves.toBe(0);
    await expect(liveVersions(page)).resolves.toEqual(['2.0']);
  });
});

it('every dashboard page works under the Content-Security-Policy, with no violation reported', async () => {
  await withScreenshotOnFailure(page, 'csp', async () => {
    const visit = async (path: string) => {
      const res = await page.goto(`${app.url}${path}`);
      expect({ path, csp: res?.headers()['content-security-policy'] }).toEqual({ path, csp: expect.stringContaining("script-src 'self'") });
    };
    for (const path of ['/products', '/products/new', `/products/${productId}`, `/products/${productId}/edit`, `/products/${productId}/codes`, '/account']) await visit(path);

    // The scripted parts still run: a batch of codes, the confirm dialog on revoke, an API key.
    await visit(`/products/${productId}/codes/new`);
    await page.fill('#count', '1');
    await Promise.all([page.waitForURL(/\/codes\/[0-9a-f-]{36}$/), page.click('form[action$="/codes"] button[type=submit]')]);
    page.once('dialog', (d) => void d.accept());
    await page.click('form[action$="/revoke"] button');
    await page.locator('.alert.ok', { hasText: 'Code revoked' }).waitFor();
    await visit('/account');
    await page.fill('input[name=name]', 'browser key');
    await page.click('form[action="/account/api-keys"] button');
    await expect(page.locator('#new-api-key').textContent()).resolves.toMatch(/^wharf_/);
    await visit(`/details/${productId}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Acme Browser');
  });
  expect(cspViolations).toEqual([]);
});

it('another site can frame the details page but not the dashboard', async () => {
  // A WordPress admin on another origin (127.0.0.1, not localhost) with an iframe of each. A real
  // loopback server: Chromium never lets a page it cannot place on the local network frame loopback.
  const html = `<iframe id="details" src="${app.url}/details/${productId}"></iframe><iframe id="dashboard" src="${app.url}/login"></iframe>`;
  const wordpress = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => wordpress.listen(0, '127.0.0.1', resolve));
  const framer = await browser.newPage();
  const messages: string[] = [];
  framer.on('console', (m) => messages.push(m.text()));
  try {
    await framer.goto(`http://127.0.0.1:${(wordpress.address() as AddressInfo).port}/wp-admin/plugin-install.php`);
    await expect(framer.frameLocator('#details').locator('h1').textContent()).resolves.toBe('Acme Browser');
    // Chromium words it "Framing '<origin>/' violates … frame-ancestors 'none' … blocked".
    const refusal = new RegExp(`(Framing|Refused to frame) '${app.url}/'.*frame-ancestors 'none'`);
    for (let i = 0; i < 100 && !messages.some((m) => refusal.test(m)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(messages).toContainEqual(expect.stringMatching(refusal));
    await expect(framer.frameLocator('#dashboard').locator('#email').count()).resolves.toBe(0);
  } finally {
    await framer.context().close();
    wordpress.closeAllConnections();
    await new Promise<void>((resolve) => wordpress.close(() => resolve()));
  }
});

it('no dashboard page logged a console error or threw', () => {
  expect(consoleErrors).toEqual([]);
});
