import crypto from 'node:crypto';
import type { Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { seedCheckins } from '../support/analytics-seed';
import { launchBrowser, withScreenshotOnFailure, type TestBrowser } from '../support/browser';

/**
 * The analytics page in real headless Chromium: every chart is drawn (by the bundled Chart.js, under the
 * dashboard's CSP) with exactly the numbers of its accessible table, and those equal the service's report.
 */

let app: TestApp;
let browser: TestBrowser;
let page: Page;
let productId: string;
let userId: string;
const cspViolations: string[] = [];

beforeAll(async () => {
  const [a, b] = await Promise.allSettled([startTestApp(), launchBrowser()]);
  if (a.status === 'fulfilled') app = a.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  page = await browser.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  const email = `vendor-${crypto.randomUUID()}@example.test`;
  await page.goto(`${app.url}/signup`);
  await page.fill('#email', email);
  await page.fill('#password', 'correct horse battery staple');
  await Promise.all([page.waitForURL(`${app.url}/products`), page.click('form[action="/signup"] button[type=submit]')]);
  await page.goto(`${app.url}/products/new`);
  await page.check('input[name=type][value=plugin]');
  await page.fill('#slug', 'acme-stats');
  await page.fill('#name', 'Acme Stats');
  await Promise.all([page.waitForURL(/\/products\/[0-9a-f-]{36}$/), page.click('form[action="/products"] button[type=submit]')]);
  productId = new URL(page.url()).pathname.split('/')[2]!;
  userId = (await app.runtime.services.users.findByEmail(email)).id;
  await seedCheckins(app, productId, { sites: 40, days: 60 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Each table's body cells as numbers or text, read from the rendered page. */
const tableCells = (id: string) => page.locator(`#${id} tbody tr`).evaluateAll((rows) => rows.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.textContent!.trim())));

/** What each drawn chart holds: labels and datasets, read from Chart.js itself. */
const chartData = (tableId: string) =>
  page.evaluate((id) => {
    const canvas = document.querySelector(`canvas[data-chart-for="${id}"]`) as HTMLCanvasElement;
    const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { labels: string[]; datasets: { label: string; data: number[] }[] } } } }).Chart.getChart(canvas);
    return { visible: canvas.getBoundingClientRect().height > 0, labels: chart.data.labels, datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })) };
  }, tableId);

test.each([7, 30, 90])('every chart is drawn with the numbers of its table, and they equal the report (days=%i)', async (days) => {
  await withScreenshotOnFailure(page, `analytics-${days}`, async () => {
    await page.goto(`${app.url}/products/${productId}/analytics?days=${days}`);
    await page.waitForSelector('canvas[data-drawn="true"]');
    const report = await app.runtime.services.analytics.report(userId, productId, days);
    const canvases = await page.locator('canvas[data-chart-for]').evaluateAll((cs) => cs.map((c) => [c.getAttribute('data-chart-for'), c.getAttribute('data-drawn')]));
    expect(canvases.length).toBeGreaterThanOrEqual(7);
    for (const [id, drawn] of canvases) expect({ id, drawn }).toEqual({ id, drawn: 'true' });

    expect(await page.locator('#active-7d').textContent()).toBe(String(report.active.d7));
    expect(await page.locator('#active-30d').textContent()).toBe(String(report.active.d30));
    const daily = await tableCells('t-daily');
    expect(daily).toEqual(report.daily.map((d) => [d.date, String(d.activeSites), String(d.checks)]));
    const label = (v: string | null) => v ?? 'unknown';
    expect(await tableCells('t-versions')).toEqual(report.versions.map((v) => [label(v.value), String(v.sites)]));
    expect(await tableCells('t-wordpress')).toEqual(report.wordpress.map((v) => [label(v.value), String(v.sites)]));
    expect(await tableCells('t-php')).toEqual(report.php.map((v) => [label(v.value), String(v.sites)]));
    expect(await tableCells('t-locales')).toEqual(report.locales.map((v) => [label(v.value), String(v.sites)]));

    // Each chart holds exactly its table's numbers.
    for (const id of canvases.map(([i]) => i!)) {
      const cells = await tableCells(id);
      const headers = await page.locator(`#${id} thead th[data-series]`).allTextContents();
      const chart = await chartData(id);
      expect(chart.visible).toBe(true);
      expect(chart.labels).toEqual(cells.map((r) => r[0]));
      expect(chart.datasets.map((d) => d.label)).toEqual(headers.map((h) => h.trim()));
      const columns = await page.locator(`#${id} thead th`).evaluateAll((ths) => ths.map((th) => th.hasAttribute('data-series')));
      const seriesCols = columns.flatMap((isSeries, i) => (isSeries ? [i] : []));
      expect(chart.datasets.map((d) => d.data)).toEqual(seriesCols.map((col) => cells.map((r) => Number(r[col]))));
    }
    // The adoption chart stacks the same per-day version counts as the report.
    const adoption = await chartData('t-adoption');
    for (const ds of adoption.datasets) {
      expect(ds.data).toEqual(report.versionsDaily.map((d) => d.values[ds.label] ?? 0));
    }
  });
});

test('the page works without JavaScript (tables, no charts), and the charts break no CSP rule', async () => {
  const noJs = await browser.newPage({ javaScriptEnabled: false });
  const cookies = await page.context().cookies();
  await noJs.context().addCookies(cookies);
  await noJs.goto(`${app.url}/products/${productId}/analytics?days=30`);
  expect(await noJs.locator('canvas[data-chart-for]').first().isVisible()).toBe(false);
  expect(await noJs.locator('#t-versions').isVisible()).toBe(true);
  expect(await noJs.locator('#t-sites tbody tr').count()).toBeGreaterThan(0);
  await noJs.close();
  expect(cspViolations).toEqual([]);
});
