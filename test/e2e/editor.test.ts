import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import type { Page } from 'playwright-core';
import { api, createApiKey } from '../support/api-client';
import { startTestApp, type TestApp } from '../support/app';
import { launchBrowser, withScreenshotOnFailure, type TestBrowser } from '../support/browser';
import { productWithReleases, updateCheck, type Vendor } from '../support/fixtures';
import { htmlProblems } from '../support/html-safety';
import { WebClient } from '../support/web-client';

/**
 * The rich text editor in real headless Chromium: keyboard only, paste from Google Docs / Word, XSS through the
 * editor (and around it), the preview, per-version changelogs, browser error reports, and no console error on any
 * page (CSP violations and a missing favicon included).
 */

jest.setTimeout(300_000);

let app: TestApp;
let browser: TestBrowser;
let page: Page;
let vendor: Vendor;
let productId: string;
const logLines: Record<string, any>[] = [];
const consoleErrors: string[] = [];
/** Errors this test causes on purpose (their text holds this marker). */
const DELIBERATE = `deliberate-${crypto.randomUUID()}`;
const PASSWORD = 'correct horse battery staple';

function watch(p: Page): void {
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes(DELIBERATE)) consoleErrors.push(`${p.url()}: ${m.text()} (${m.location().url})`);
  });
  p.on('pageerror', (e) => {
    if (!e.message.includes(DELIBERATE)) consoleErrors.push(`${p.url()}: uncaught ${e.message}`);
  });
}

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });
  const [a, b] = await Promise.allSettled([startTestApp({ logTo: sink, env: { LOG_LEVEL: 'warn' } }), launchBrowser()]);
  if (a.status === 'fulfilled') app = a.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;

  const email = `editor-${crypto.randomUUID()}@example.test`;
  const web = new WebClient(app.url);
  await web.signUp(email, PASSWORD);
  vendor = { web, key: await createApiKey(web) };
  ({ id: productId } = await productWithReleases(app, vendor, { slug: 'rich-editor', versions: ['1.0'], free: true, readme: true }));

  page = await browser.newPage();
  page.context().on('page', watch);
  watch(page);
  await page.goto(`${app.url}/login`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${app.url}/products`), page.click('form[action="/login"] button[type=submit]')]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const editorOf = (section: string) => page.locator(`.rich-field[data-section="${section}"] .rte-content`);

it('formats a section with the keyboard alone: heading, bold, list, link, code; the toolbar is one tab stop', async () => {
  await withScreenshotOnFailure(page, 'editor-keyboard', async () => {
    await page.goto(`${app.url}/products/${productId}/content`);
    await editorOf('installation').waitFor();
    // From the installation editor, Tab reaches the FAQ toolbar (one stop), then the FAQ editor.
    await editorOf('installation').click();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe('Heading');
    await page.keyboard.press('ArrowRight');
    await expect(page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).resolves.toBe('Subheading');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.closest('.rich-field')?.getAttribute('data-section'))).resolves.toBe('faq');

    const k = page.keyboard;
    await k.press('Control+Alt+2');
    await k.type('Questions');
    await k.press('Enter');
    await k.type('Is it ');
    await k.press('Control+b');
    await k.type('fast');
    await k.press('Control+b');
    await k.type('? Run ');
    await k.press('Control+e');
    await k.type('wp cli');
    await k.press('Control+e');
    await k.press('Enter');
    await k.press('Control+Shift+8');
    await k.type('yes');
    await k.press('Enter');
    await k.type('very');
    await k.press('Enter');
    await k.press('Enter'); // leaves the list
    await k.type('Read the docs');
    for (let i = 0; i < 4; i++) await k.press('Shift+ArrowLeft');
    page.once('dialog', (d) => void d.accept('https://acme.test/docs'));
    await k.press('Control+k');
    await expect(page.locator('.rich-field[data-section="faq"] .rte-link').getAttribute('aria-pressed')).resolves.toBe('true');
    // Alt+F10 goes to the toolbar; Escape comes back.
    await k.press('Alt+F10');
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === null && document.activeElement?.closest('[role=toolbar]') !== null, undefined, { timeout: 5000 });
    await k.press('Escape');
    // Tiptap moves focus on its next frame: wait for it rather than read it at once.
    await page.waitForFunction(() => document.activeElement?.classList.contains('rte-content') === true, undefined, { timeout: 5000 });

    await Promise.all([page.waitForURL(/\/products\/[0-9a-f-]{36}(#.*)?$/), page.click('.content-form button.primary')]);
    const faq: string = (await updateCheck(app, productId, {})).json.sections.faq;
    expect(faq).toBe(
      '<h2>Questions</h2><p>Is it <strong>fast</strong>? Run <code>wp cli</code></p><ul><li><p>yes</p></li><li><p>very</p></li></ul><p>Read the <a href="https://acme.test/docs">docs</a></p>',
    );
    // Untouched sections still follow the readme.
    expect((await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}`)).json.sections.description).toBe('<p>The <strong>best</strong> plugin.</p>');
  });
});

it('cleans up a paste from Google Docs and Word', async () => {
  await withScreenshotOnFailure(page, 'editor-paste', async () => {
    await page.goto(`${app.url}/products/${productId}/content`);
    const target = editorOf('description');
    await target.click();
    await page.keyboard.press('Control+a');
    await target.evaluate((el) => {
      const html =
        '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-1234"><p dir="ltr" style="line-height:1.38"><span style="font-size:11pt;font-family:Arial;color:#000000;font-weight:700">Docs bold</span><span style="font-size:11pt"> and plain</span></p></b>' +
        '<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]--><style>p.MsoNormal{margin:0}</style>' +
        '<p class="MsoListParagraphCxSpFirst" style="mso-list:l0 level1 lfo1"><span style="mso-list:Ignore">·<span>&nbsp;&nbsp;</span></span>Word one<o:p></o:p></p>' +
        '<p class="MsoListParagraphCxSpLast" style="mso-list:l0 level1 lfo1"><span style="mso-list:Ignore">·<span>&nbsp;&nbsp;</span></span>Word two<o:p></o:p></p>';
      const data = new DataTransfer();
      data.setData('text/html', html);
      data.setData('text/plain', 'Docs bold and plain');
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await Promise.all([page.waitForURL(/\/products\/[0-9a-f-]{36}(#.*)?$/), page.click('.content-form button.primary')]);
    const description: string = (await updateCheck(app, productId, {})).json.sections.description;
    expect(description).toBe('<p><strong>Docs bold</strong> and plain</p><ul><li><p>Word one</p></li><li><p>Word two</p></li></ul>');
  });
});

it('never lets script through the editor or around it (a forged editor output), into any page or the update JSON', async () => {
  await withScreenshotOnFailure(page, 'editor-xss', async () => {
    const payloads = [
      '<script>window.__xss = "script"</script>',
      '<img src="x" onerror="window.__xss = \'img\'">',
      '<a href="javascript:window.__xss=\'href\'">click</a>',
      '<svg><script>window.__xss = "svg"</script><animate onbegin="window.__xss=\'svg2\'"/></svg>',
      '<p style="background:url(javascript:window.__xss=1)" onmouseover="window.__xss=\'p\'">styled</p>',
      '<iframe src="javascript:parent.__xss=\'iframe\'"></iframe><style>*{color:red}</style>',
    ].join('');
    // Through the editor: a paste.
    await page.goto(`${app.url}/products/${productId}/content`);
    await editorOf('installation').click();
    await editorOf('installation').evaluate((el, html) => {
      const data = new DataTransfer();
      data.setData('text/html', html);
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, payloads);
    // Around it: the form's field set by hand, as a script or a tampered client would.
    await page.evaluate((html) => {
      const form = document.querySelector<HTMLFormElement>('.content-form')!;
      form.querySelector<HTMLTextAreaElement>('textarea[name="section_faq"]')!.value = html;
      form.querySelector<HTMLInputElement>('input[name="changed_section_faq"]')!.value = '1';
      (document.querySelector('.content-form button.primary') as HTMLButtonElement).click();
    }, payloads);
    await page.waitForURL(/\/products\/[0-9a-f-]{36}(#.*)?$/);
    // And the version changelog, through its editor.
    const versions = (await api(app.url, vendor.key, 'GET', `/api/v1/products/${productId}/versions`)).json.versions as { id: string }[];
    await page.goto(`${app.url}/products/${productId}/versions/${versions[0]!.id}/notes`);
    await page.evaluate((html) => {
      document.querySelector<HTMLTextAreaElement>('textarea[name="changelog"]')!.value = html;
      document.querySelector<HTMLTextAreaElement>('textarea[name="upgrade_notice"]')!.value = html;
      (document.querySelector('form button.primary') as HTMLButtonElement).click();
    }, payloads);
    await page.waitForURL(/\/products\/[0-9a-f-]{36}(#.*)?$/);

    const j = (await updateCheck(app, productId, {})).json;
    for (const html of [j.upgrade_notice, ...Object.values(j.sections as Record<string, string>)]) expect(htmlProblems(html)).toEqual([]);
    expect(j.sections.faq).toContain('styled');
    for (const url of [`/products/${productId}`, `/products/${productId}/content`, `/products/${productId}/preview`, `/products/${productId}/versions/${versions[0]!.id}/notes`, `/details/${productId}`]) {
      await page.goto(`${app.url}${url}`);
      await page.hover('body');
      await page.waitForTimeout(200);
      await expect(page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).resolves.toBeUndefined();
      await expect(page.locator('#section-holder script, .readme-body script, .version-notes script, .rte-content img[onerror], a[href^="javascript"]').count()).resolves.toBe(0);
    }
  });
});

it('previews the unsaved text as WordPress\'s "View details" modal, in a new tab with its tabs', async () => {
  await withScreenshotOnFailure(page, 'editor-preview', async () => {
    await page.goto(`${app.url}/products/${productId}/content`);
    await editorOf('description').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('Unsaved words');
    const [preview] = await Promise.all([page.context().waitForEvent('page'), page.click('button.preview')]);
    await preview.waitForLoadState();
    await expect(preview.locator('#plugin-information-tabs a').allTextContents()).resolves.toEqual(['Description', 'Installation', 'Changelog', 'FAQ']);
    await expect(preview.locator('#section-description').textContent()).resolves.toBe('Unsaved words');
    await expect(preview.locator('#section-description').isVisible()).resolves.toBe(true);
    await preview.click('#plugin-information-tabs a[href="#section-faq"]');
    await expect(preview.locator('#section-faq').isVisible()).resolves.toBe(true);
    await expect(preview.locator('#section-description').isVisible()).resolves.toBe(false);
    await preview.close();
    expect((await updateCheck(app, productId, {})).json.sections.description).not.toContain('Unsaved');
  });
});

it('shows each version with its changelog, the full SHA-256 with a copy button, and a download link', async () => {
  await withScreenshotOnFailure(page, 'editor-versions', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    await page.goto(`${app.url}/products/${productId}`);
    const sha = (await page.locator('code.sha256').first().textContent())!;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    await page.click('button.copy');
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(sha);
    await expect(page.locator('a.download').first().getAttribute('href')).resolves.toMatch(/\/download$/);
  });
});

it('reports a page\'s own JavaScript errors to the server log, tied to the build', async () => {
  await page.goto(`${app.url}/products/${productId}`);
  await page.evaluate((marker) => {
    setTimeout(() => {
      throw new Error(`thrown ${marker}`);
    });
    void Promise.reject(new Error(`rejected ${marker}`));
  }, DELIBERATE);
  const appJs = await page.locator('script[src*="/assets/app."]').getAttribute('src');
  const fingerprint = /app\.([0-9a-f]{12})\.js/.exec(appJs!)![1];
  const found = () => logLines.filter((l) => typeof l.clientError?.message === 'string' && l.clientError.message.includes(DELIBERATE));
  for (let i = 0; i < 100 && found().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  const lines = found();
  expect(lines.map((l) => l.clientError.message).sort()).toEqual([`Uncaught Error: thrown ${DELIBERATE}`, `Unhandled rejection: rejected ${DELIBERATE}`]);
  for (const l of lines) expect(l).toMatchObject({ level: 40, build: fingerprint, clientError: { page: `/products/${productId}`, asset: { name: 'app.js', fingerprint } } });
});

it('no page logged a console error (CSP violations, failed loads such as a missing favicon)', async () => {
  const favicon = await fetch(`${app.url}/favicon.ico`, { redirect: 'follow' });
  expect(favicon.status).toBe(200);
  expect(favicon.headers.get('content-type')).toContain('image/svg+xml');
  expect(consoleErrors).toEqual([]);
});
