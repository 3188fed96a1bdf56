import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's chromium: `npx playwright install` cannot download a browser on our machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(__dirname, '../../.tmp/screenshots');

export interface TestBrowser {
  browser: Browser;
  /** A page in its own fresh context (own cookies), closed with the browser. */
  newPage(opts?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Headless Chromium that talks to loopback only. Playwright refuses `--user-data-dir` in launch():
 * it gives every launch its own fresh temp profile (os.tmpdir()/playwright_chromiumdev_profile-*)
 * and removes it on close, which is the throwaway profile we want.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  // A missing browser fails the test (CI must not go green by skipping the browser tests).
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's "chromium" package (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    newPage: async (opts = {}) => {
      const context = await browser.newContext(opts);
      context.setDefaultTimeout(15_000);
      context.setDefaultNavigationTimeout(20_000);
      return context.newPage();
    },
    close: async () => {
      await browser.close().catch(() => undefined);
    },
  };
}

/**
 * Emulates a slower uplink for this page (Chrome DevTools' network throttling). On loopback a few
 * MB upload in one tick, before Chromium's first upload-progress report; a real uplink is slower.
 * Returns a function that lifts the limit.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  };
}

/** Full-page screenshot to .tmp/screenshots/<name>.png; never throws (it is called while failing). */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  try {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
    return file;
  } catch {
    return undefined;
  }
}

/** Runs fn; on failure saves a screenshot of page as <name>.png and rethrows. */
export async function withScreenshotOnFailure<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const file = await screenshot(page, `failed-${name}`);
    if (file && err instanceof Error) err.message += `\n(screenshot: ${file})`;
    throw err;
  }
}
