import crypto from 'node:crypto';
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { api } from '../support/api-client';
import { launchBrowser, withScreenshotOnFailure, type TestBrowser } from '../support/browser';
import { createCodes, productWithReleases } from '../support/fixtures';
import { WebClient } from '../support/web-client';

/**
 * Every dashboard page in Chromium, signed out and signed in with data, at 1440 and 390 px: axe-core
 * finds no serious or critical violation, the document is never wider than the viewport, the header
 * keeps the logo on one line. Plus what only a browser shows: post/redirect/get on reload, the
 * confirmations, focus on the error summary, the skip link, the slug filled from the name.
 */

const WIDTHS = [1440, 390] as const;
const EMAIL = `a11y-${crypto.randomUUID()}@example.test`;
const PASSWORD = 'correct horse battery staple';

let app: TestApp;
let browser: TestBrowser;
let page: Page;
let productId = '';
let codeId = '';
let batchId = '';

interface Finding {
  path: string;
  width: number;
  problem: string;
}

async function check(p: Page, path: string, width: number, tamper?: () => void): Promise<Finding[]> {
  await p.setViewportSize({ width, height: 900 });
  const res = await p.goto(`${app.url}${path}`);
  if (tamper) await p.evaluate(tamper);
  const out: Finding[] = [];
  if (!res || res.status() >= 500) out.push({ path, width, problem: `status ${res?.status()}` });
  const size = await p.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth, brand: document.querySelector('.brand')?.getBoundingClientRect().height ?? 0 }));
  if (size.doc > size.view) out.push({ path, width, problem: `document ${size.doc} px wide in a ${size.view} px viewport` });
  if (size.brand > 32) out.push({ path, width, problem: `the logo wraps (${size.brand} px tall)` });
  // page.evaluate runs outside the page's CSP, which allows no inline script.
  await p.evaluate(axe.source);
  const violations = await p.evaluate(async () => {
    const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  for (const v of violations) out.push({ path, width, problem: v });
  return out;
}

beforeAll(async () => {
  const [a, b] = await Promise.allSettled([startTestApp(), launchBrowser()]);
  if (a.status === 'fulfilled') app = a.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

it('signed out: every page passes axe and fits at 1440 and 390 px', async () => {
  const findings: Finding[] = [];
  for (const width of WIDTHS) for (const path of ['/login', '/signup', '/password/forgot', '/password/reset?token=nothing']) findings.push(...(await check(page, path, width)));
  expect(findings).toEqual([]);
});

it('the checks can fail: a wide element and an image without alt text are both reported', async () => {
  const findings = await check(page, '/login', 390, () => {
    const wide = document.createElement('div');
    wide.style.width = '900px';
    wide.textContent = 'wide';
    const img = document.createElement('img');
    img.src = '/nothing.png';
    document.querySelector('main')!.append(wide, img);
  });
  expect(findings.map((f) => f.problem)).toEqual([expect.stringMatching(/^document \d+ px wide in a 390 px viewport$/), expect.stringMatching(/^image-alt \(critical\)/)]);
});

it('a form that comes back with errors moves focus to its summary; the skip link comes first', async () => {
  await withScreenshotOnFailure(page, 'a11y-focus', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${app.url}/signup`);
    await page.fill('#email', 'not-an-email');
    await page.fill('#password', 'short');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/signup"] button[type=submit]')]);
    await page.waitForFunction(() => document.activeElement?.id === 'error-summary');
    await page.keyboard.press('Tab');
    await page.goto(`${app.url}/login`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
  });
});

it('signs up, sees the onboarding steps, creates a product whose slug follows its name', async () => {
  await withScreenshotOnFailure(page, 'a11y-signup', async () => {
    await page.goto(`${app.url}/signup`);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${app.url}/products`), page.click('form[action="/signup"] button[type=submit]')]);
    await expect(page.locator('.onboarding ol.steps li').count()).resolves.toBe(3);
    await page.goto(`${app.url}/products/new`);
    await page.fill('#name', 'Ünïcode Shop Helper!');
    await expect(page.inputValue('#slug')).resolves.toBe('unicode-shop-helper');
  });
});

it('API keys: created once however often the page is reloaded, revoked after a confirmation naming the key', async () => {
  await withScreenshotOnFailure(page, 'a11y-keys', async () => {
    await page.goto(`${app.url}/account`);
    await page.getByLabel('Key name').fill('release bot');
    await Promise.all([page.waitForURL(`${app.url}/account`), page.click('form[action="/account/api-keys"] button')]);
    const key = (await page.locator('#new-api-key').textContent())!;
    expect(key).toMatch(/^wharf_/);
    await page.reload();
    await page.reload();
    await expect(page.locator('#new-api-key').count()).resolves.toBe(0);
    await expect(page.locator('tr[data-key-id]').count()).resolves.toBe(1);

    // Data for the signed-in pages, through the key the browser just made.
    const vendor = { web: new WebClient(app.url), key };
    const product = await productWithReleases(app, vendor, { slug: 'a11y-plugin', versions: ['1.0', '1.1'] });
    productId = product.id;
    const codes = await createCodes(app, vendor, productId, { count: 3, maxSites: 2, note: 'order 7', customerEmail: 'jane@example.com', customerName: 'Jane' });
    const view = await api(app.url, key, 'GET', `/api/v1/purchase-codes/${codes[0]}`);
    codeId = view.json.id;
    await fetch(`${app.url}/api/v1/licenses/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId, license: codes[0], domain: 'https://shop.example.com' }) });
    await api(app.url, key, 'PATCH', `/api/v1/purchase-codes/${codes[1]}`, { revoked: true });
    const listed = (await api(app.url, key, 'GET', `/api/v1/products/${productId}/purchase-codes`)).json.codes as { id: string }[];
    expect(listed).toHaveLength(3);
    batchId = (await app.runtime.services.purchaseCodes.get((await app.runtime.services.users.findByEmail(EMAIL)).id, productId, codeId)).code.batchId!;

    await page.goto(`${app.url}/account`);
    await page.getByLabel('Key name').fill('spare');
    await Promise.all([page.waitForURL(`${app.url}/account`), page.click('form[action="/account/api-keys"] button')]);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.locator('tr:has-text("spare") button', { hasText: 'Revoke' }).click();
    await page.locator('.alert.ok', { hasText: 'API key “spare” revoked.' }).waitFor();
    expect(asked).toContain('Revoke the API key “spare”?');
    await expect(page.locator('tr[data-key-id]').count()).resolves.toBe(1);
  });
});

it('"Make live" asks first, naming the version; the banner names it too', async () => {
  await withScreenshotOnFailure(page, 'a11y-live', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${app.url}/products/${productId}`);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await page.locator('tr[data-version="1.0"] button', { hasText: 'Make live' }).click();
    expect(asked).toMatch(/^Make version 1\.0 live\? \d+ sites? checked for updates/);
    page.once('dialog', (d) => void d.accept());
    await page.locator('tr[data-version="1.0"] button', { hasText: 'Make live' }).click();
    await page.locator('.alert.ok', { hasText: 'Version 1.0 is now live.' }).waitFor();
  });
});

it('bulk actions: tick two codes, confirm, and both are revoked', async () => {
  await withScreenshotOnFailure(page, 'a11y-bulk', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${app.url}/products/${productId}/codes?status=active`);
    const boxes = page.locator('input[name=ids]');
    await expect(boxes.count()).resolves.toBe(2);
    await page.getByLabel('Choose every code on this page').check();
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.locator('#bulk-form button[value=revoke]').click();
    await page.locator('.alert.ok', { hasText: '2 codes revoked.' }).waitFor();
    expect(asked).toContain('Revoke the chosen codes?');
    await expect(page.locator('input[name=ids]').count()).resolves.toBe(0); // the active filter is kept, and now empty
  });
});

it('copy buttons copy the code; an icon uploads straight to S3 and is saved', async () => {
  const clip = await browser.newPage({ permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    await withScreenshotOnFailure(clip, 'a11y-copy-media', async () => {
      await clip.goto(`${app.url}/login`);
      await clip.fill('#email', EMAIL);
      await clip.fill('#password', PASSWORD);
      await Promise.all([clip.waitForURL(`${app.url}/products`), clip.click('form[action="/login"] button[type=submit]')]);
      await clip.goto(`${app.url}/products/${productId}/codes/${codeId}`);
      await clip.getByRole('button', { name: 'Copy code' }).click();
      await clip.getByRole('button', { name: 'Copied' }).waitFor();
      const shown = (await clip.locator('#code-value').textContent())!.trim();
      await expect(clip.evaluate(() => navigator.clipboard.readText())).resolves.toBe(shown);

      await clip.goto(`${app.url}/products/${productId}/edit`);
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
      await clip.locator('details:has(#icon1x-file) > summary').click(); // the images sit in a closed <details>
      await clip.setInputFiles('#icon1x-file', { name: 'icon.png', mimeType: 'image/png', buffer: png });
      await clip.locator('.media-status', { hasText: 'Uploaded and saved.' }).waitFor();
      await expect(clip.inputValue('#icon1x')).resolves.toMatch(new RegExp(`^${app.url}/media/${productId}/icon1x-[0-9a-f]{16}\\.png$`));
    });
  } finally {
    await clip.context().close();
  }
});

it('signed in with data: every dashboard page passes axe and fits at 1440 and 390 px', async () => {
  const paths = [
    '/products',
    '/products/new',
    `/products/${productId}`,
    `/products/${productId}/edit`,
    `/products/${productId}/releases/new`,
    `/products/${productId}/codes`,
    `/products/${productId}/codes?status=revoked`,
    `/products/${productId}/codes/new`,
    `/products/${productId}/codes/${codeId}`,
    `/products/${productId}/codes/${codeId}/edit`,
    `/products/${productId}/codes/batches/${batchId}`,
    '/account',
    '/account?revoked=1',
  ];
  const findings: Finding[] = [];
  for (const width of WIDTHS) for (const path of paths) findings.push(...(await check(page, path, width)));
  expect(findings).toEqual([]);
}, 300_000);
