import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api } from '../support/api-client';
import { startTestApp, type TestApp } from '../support/app';
import { createCodes, newVendor, setReleasedAt, type Vendor } from '../support/fixtures';
import { findPhpErrors, installWordPress, type WordPressSite } from '../support/wordpress';
import {
  buildTestPlugin,
  buildTestTheme,
  readUpdateTransient,
  triggerPluginUpdateCheck,
  triggerThemeUpdateCheck,
  upgradePlugin,
  upgradeTheme,
  zipDir,
  TEST_PLUGIN_FILE,
  TEST_PLUGIN_SLUG,
  TEST_THEME_SLUG,
} from '../support/wp-fixtures';
import { adminPage, createProduct, licenseNotices, readCheckerState, releaseZip, saveCodeOnLicenseScreen, type CheckerState } from '../support/wp-wharf';

/**
 * The PHP update client, proven inside a real WordPress against the real Wharf server (PGlite + embedded S3):
 * a vendor releases, a site admin enters the purchase code, WordPress's own upgraders install the update.
 */

const EXPIRED_SLUG = 'wharf-expired-plugin';
const THEME_CHANGELOG = 'Wharf theme changelog 2.0: a new header layout.';
const EXPIRED_FILE = `${EXPIRED_SLUG}/${EXPIRED_SLUG}.php`;
const EXPIRED_MESSAGE = 'Your purchase code expired on 31 January 2020; renew it to get version 1.1.';
const licenseScreen = (kind: 'plugin' | 'theme', slug: string) =>
  kind === 'plugin' ? `/wp-admin/options-general.php?page=wharf-plugin-license-${slug}` : `/wp-admin/themes.php?page=wharf-theme-license-${slug}`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pluginRow = (file: string) => new RegExp(`<tr class="active[^"]*" data-slug="${escapeRe(path.dirname(file))}" data-plugin="${escapeRe(file)}"`);

let app: TestApp | undefined;
let appStopped = false;
let site: WordPressSite | undefined;
let work: string;
let vendor: Vendor;
const ids = { plugin: '', theme: '', expired: '' };
const codes = { plugin: '', theme: '', expired: '' };
const timings: Record<string, number> = {};
let stepStart = 0;

function wp(): WordPressSite {
  if (!site) throw new Error('WordPress did not start');
  return site;
}

function wharf(): TestApp {
  if (!app) throw new Error('Wharf did not start');
  return app;
}

const downloadUrl = () => new RegExp(`^${escapeRe(wharf().url)}/api/v1/download/[^/]+/`);
const debugLogProblems = () => findPhpErrors(wp().readDebugLog());

async function downloadsUsed(code: string): Promise<number> {
  const res = await api(wharf().url, vendor.key, 'GET', `/api/v1/purchase-codes/${encodeURIComponent(code)}`);
  if (res.status !== 200) throw new Error(`purchase code ${code}: ${res.status} ${res.text}`);
  return res.json.downloads_used;
}

/** The vendor side: products, releases built from the real client rendered for this server, codes. */
async function vendorSetup(): Promise<void> {
  app = await startTestApp();
  const a = app;
  vendor = await newVendor(a);
  const build = (kind: 'plugin' | 'theme', productId: string, slug: string, name: string, version: string) => {
    const opts = { baseDir: path.join(work, `${slug}-${version}`), version, serverUrl: a.url, productId, slug, name };
    return kind === 'plugin' ? buildTestPlugin(opts) : buildTestTheme(opts);
  };
  const release = async (productId: string, dir: string, version: string) => {
    const v = await releaseZip(a, vendor, productId, zipDir(dir, path.join(work, 'zips', `${path.basename(dir)}-${version}.zip`)));
    if (v.version !== version || !v.live) throw new Error(`release ${path.basename(dir)} ${version}: ${JSON.stringify(v)}`);
  };

  // The expired product first: setReleasedAt matches versions by number in every product, so 1.0/1.1 of the
  // first plugin must not exist yet when these are backdated.
  ids.expired = await createProduct(a, vendor, 'plugin', EXPIRED_SLUG, 'Wharf Expired Plugin');
  for (const version of ['1.0', '1.1']) await release(ids.expired, build('plugin', ids.expired, EXPIRED_SLUG, 'Wharf Expired Plugin', version), version);
  await setReleasedAt(a, ids.expired, '1.0', new Date('2020-01-10T12:00:00Z'));
  await setReleasedAt(a, ids.expired, '1.1', new Date('2020-03-01T12:00:00Z'));
  [codes.expired] = (await createCodes(a, vendor, ids.expired, { expiresAt: '2020-01-31' })) as [string];

  ids.plugin = await createProduct(a, vendor, 'plugin', TEST_PLUGIN_SLUG, 'Wharf Test Plugin');
  build('plugin', ids.plugin, TEST_PLUGIN_SLUG, 'Wharf Test Plugin', '1.0');
  await release(ids.plugin, build('plugin', ids.plugin, TEST_PLUGIN_SLUG, 'Wharf Test Plugin', '1.1'), '1.1');
  [codes.plugin] = (await createCodes(a, vendor, ids.plugin)) as [string];

  ids.theme = await createProduct(a, vendor, 'theme', TEST_THEME_SLUG, 'Wharf Test Theme');
  build('theme', ids.theme, TEST_THEME_SLUG, 'Wharf Test Theme', '1.0');
  const theme2 = build('theme', ids.theme, TEST_THEME_SLUG, 'Wharf Test Theme', '2.0');
  // Themes have no readme sections: the changelog comes from changelog.txt in the zip.
  fs.writeFileSync(path.join(theme2, 'changelog.txt'), `= 2.0 =\n* ${THEME_CHANGELOG}\n\n= 1.0 =\n* First theme release.\n`);
  await release(ids.theme, theme2, '2.0');
  [codes.theme] = (await createCodes(a, vendor, ids.theme)) as [string];
}

beforeAll(async () => {
  const t0 = Date.now();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-wp-updates-'));
  // Wharf and WordPress start side by side; both are assigned as soon as they exist, so afterAll cleans up either.
  const results = await Promise.allSettled([vendorSetup(), installWordPress().then((s) => (site = s))]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const s = wp();
  await s.installPlugin(path.join(work, `${TEST_PLUGIN_SLUG}-1.0`, TEST_PLUGIN_SLUG));
  await s.installPlugin(path.join(work, `${EXPIRED_SLUG}-1.0`, EXPIRED_SLUG));
  await s.installTheme(path.join(work, `${TEST_THEME_SLUG}-1.0`, TEST_THEME_SLUG));
  await s.activatePlugin(TEST_PLUGIN_FILE);
  await s.activatePlugin(EXPIRED_FILE);
  await s.activateTheme(TEST_THEME_SLUG);
  timings.setup = Date.now() - t0;
}, 120_000);

beforeEach(() => {
  stepStart = Date.now();
});

afterEach(() => {
  timings[(expect.getState().currentTestName ?? '?').split(':')[0]!] = Date.now() - stepStart;
});

afterAll(async () => {
  const errors: unknown[] = [];
  await site?.stop().catch((e: unknown) => errors.push(e));
  if (app && !appStopped) await app.stop().catch((e: unknown) => errors.push(e));
  if (work) fs.rmSync(work, { recursive: true, force: true });
  console.log(`wordpress-updates timings (ms): ${JSON.stringify(timings)}`);
  if (errors.length) throw errors[0];
});

it('plugin: the admin saves the code, the check offers 1.1 from Wharf, Plugin_Upgrader installs it and it stays active', async () => {
  const s = wp();
  const screen = await saveCodeOnLicenseScreen(s, licenseScreen('plugin', TEST_PLUGIN_SLUG), codes.plugin);
  expect(screen).toContain('Purchase code saved and this site activated.');
  expect(screen).toContain(`value="${codes.plugin}"`);

  const check = await triggerPluginUpdateCheck(s, ids.plugin);
  expect(check).toMatchObject({ ok: true, error: null, answer: { version: '1.1', download_url: expect.stringMatching(downloadUrl()) } });
  expect(check.answer).not.toHaveProperty('license_error');

  await s.evalPhp('wp_update_plugins(); return true;'); // WordPress's own check (wordpress.org is stubbed by the harness).
  const transient = await readUpdateTransient(s, 'plugins');
  expect(transient.response?.[TEST_PLUGIN_FILE]).toMatchObject({
    slug: TEST_PLUGIN_SLUG,
    plugin: TEST_PLUGIN_FILE,
    new_version: '1.1',
    package: expect.stringMatching(new RegExp(`${downloadUrl().source}${TEST_PLUGIN_SLUG}\\.zip$`)),
  });

  const upgraded = await upgradePlugin(s, TEST_PLUGIN_FILE);
  expect(upgraded).toMatchObject({ ok: true, error: null, version: '1.1', active: true });

  // On disk, read afresh in a new request.
  const after = await s.evalPhp<{ version: string; active: boolean; folders: string[] }>(`
    $data = get_plugin_data(WP_PLUGIN_DIR . '/${TEST_PLUGIN_FILE}', false, false);
    return array('version' => $data['Version'], 'active' => is_plugin_active('${TEST_PLUGIN_FILE}'),
      'folders' => array_values(preg_grep('/^wharf-/', scandir(WP_PLUGIN_DIR))));`);
  expect(after).toEqual({ version: '1.1', active: true, folders: [EXPIRED_SLUG, TEST_PLUGIN_SLUG] }); // Replaced in place, no stray copy.
  expect(await downloadsUsed(codes.plugin)).toBe(1); // The package came through Wharf's download, counted against the code.
  const settled = await readUpdateTransient(s, 'plugins');
  expect(settled.response?.[TEST_PLUGIN_FILE]).toBeUndefined();
  expect(settled.no_update?.[TEST_PLUGIN_FILE]).toMatchObject({ new_version: '1.1' });
  expect(debugLogProblems()).toEqual([]);
});

it('theme: the admin saves the code, the check offers 2.0 from Wharf, Theme_Upgrader installs it and it stays active', async () => {
  const s = wp();
  const screen = await saveCodeOnLicenseScreen(s, licenseScreen('theme', TEST_THEME_SLUG), codes.theme);
  expect(screen).toContain('Purchase code saved and this site activated.');

  const check = await triggerThemeUpdateCheck(s, ids.theme);
  expect(check).toMatchObject({ ok: true, error: null, answer: { version: '2.0', download_url: expect.stringMatching(downloadUrl()) } });

  await s.evalPhp('wp_update_themes(); return true;');
  const transient = await readUpdateTransient(s, 'themes');
  expect(transient.response?.[TEST_THEME_SLUG]).toMatchObject({
    theme: TEST_THEME_SLUG,
    new_version: '2.0',
    package: expect.stringMatching(new RegExp(`${downloadUrl().source}${TEST_THEME_SLUG}\\.zip$`)),
    url: `${wharf().url}/details/${ids.theme}`,
  });
  // The Themes screen links "View version 2.0 details" to Wharf's details page, which shows that version's changelog.
  const themesScreen = await adminPage(s, '/wp-admin/themes.php');
  expect(themesScreen.replace(/\\\//g, '/')).toContain(`${wharf().url}/details/${ids.theme}`);
  const details = await fetch(transient.response![TEST_THEME_SLUG]!.url as string);
  const detailsHtml = await details.text();
  expect(details.status).toBe(200);
  expect(detailsHtml).toContain('<h4>2.0</h4>');
  expect(detailsHtml).toContain(`<li>${THEME_CHANGELOG}</li>`);
  expect(detailsHtml).toContain('Bundles the Wharf update client (tests only).');

  const upgraded = await upgradeTheme(s, TEST_THEME_SLUG);
  expect(upgraded).toMatchObject({ ok: true, error: null, version: '2.0', active: true });
  const after = await s.evalPhp<{ version: string; stylesheet: string }>(
    "return array('version' => (string) wp_get_theme()->get('Version'), 'stylesheet' => get_stylesheet());",
  );
  expect(after).toEqual({ version: '2.0', stylesheet: TEST_THEME_SLUG });
  expect(await downloadsUsed(codes.theme)).toBe(1);
  expect((await readUpdateTransient(s, 'themes')).response?.[TEST_THEME_SLUG]).toBeUndefined();
  expect(debugLogProblems()).toEqual([]);
});

it('expired code: 1.1 is announced without a package, and wp-admin/plugins.php shows the server\'s sentence with the date', async () => {
  const s = wp();
  const screen = await saveCodeOnLicenseScreen(s, licenseScreen('plugin', EXPIRED_SLUG), codes.expired);
  expect(licenseNotices(screen).join('\n')).toContain(EXPIRED_MESSAGE); // Saving checks at once: the reason is on the license screen.

  const check = await triggerPluginUpdateCheck(s, ids.expired);
  expect(check).toMatchObject({ ok: true, error: null, answer: { version: '1.1', license_error: { code: 'expired', message: EXPIRED_MESSAGE } } });
  expect(check.answer).not.toHaveProperty('download_url');

  await s.evalPhp('wp_update_plugins(); return true;');
  const transient = await readUpdateTransient(s, 'plugins');
  expect(transient.response?.[EXPIRED_FILE]).toMatchObject({ plugin: EXPIRED_FILE, new_version: '1.1', package: '' });

  const page = await adminPage(s, '/wp-admin/plugins.php');
  expect(page).toMatch(pluginRow(EXPIRED_FILE));
  expect(licenseNotices(page)).toEqual([`Wharf Expired Plugin: ${EXPIRED_MESSAGE} Manage your purchase code`]);
  expect(page).toMatch(/expired on 31 January 2020/);
  // The update row under the plugin: WordPress's own line, then the server's reason from in_plugin_update_message.
  const row = /<tr class="plugin-update-tr[^"]*"[^>]*data-slug="wharf-expired-plugin"[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
  expect(row).toContain('Automatic update is unavailable for this plugin.');
  expect(row).toContain(EXPIRED_MESSAGE);

  // WordPress's upgrader has nothing to download; the installed 1.0 stays, active.
  const upgraded = await upgradePlugin(s, EXPIRED_FILE);
  expect(upgraded).toMatchObject({ ok: false, version: '1.0', active: true });
  expect(upgraded.error).toMatch(/package not available/i);
  expect(debugLogProblems()).toEqual([]);
});

it('rollouts: a release needing a newer PHP is held back with compat_notice on the Updates screen; a beta reaches the site once its admin picks the beta channel', async () => {
  const s = wp();
  const a = wharf();
  const build = (version: string) => buildTestPlugin({ baseDir: path.join(work, `rollout-${version}`), version, serverUrl: a.url, productId: ids.plugin, slug: TEST_PLUGIN_SLUG, name: 'Wharf Test Plugin' });
  const dir12 = build('1.2');
  const main = path.join(dir12, `${TEST_PLUGIN_SLUG}.php`);
  fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace(' * Requires PHP: 7.4', ' * Requires PHP: 99.0'));
  expect(await releaseZip(a, vendor, ids.plugin, zipDir(dir12, path.join(work, 'zips', 'rollout-1.2.zip')))).toMatchObject({ version: '1.2', live: true });
  expect(await releaseZip(a, vendor, ids.plugin, zipDir(build('2.0-beta1'), path.join(work, 'zips', 'rollout-2.0-beta1.zip')))).toMatchObject({ version: '2.0-beta1', live: true });

  const notice = expect.stringMatching(/^Version 1\.2 needs PHP 99\.0 or later \(this site runs PHP [0-9.]+\); update PHP to get it\.$/);
  expect(await triggerPluginUpdateCheck(s, ids.plugin)).toMatchObject({ ok: true, error: null, answer: { version: '1.1', compat_notice: notice } });
  const updates = await adminPage(s, '/wp-admin/update-core.php');
  expect(updates).toMatch(/<div class="notice notice-info wharf-compat-notice"><p><strong>Wharf Test Plugin:<\/strong> Version 1\.2 needs PHP 99\.0 or later/);

  const screen = licenseScreen('plugin', TEST_PLUGIN_SLUG);
  const setChannel = async (beta: boolean) => {
    const nonce = /name="_wpnonce" value="([^"]+)"/.exec(await adminPage(s, screen))?.[1];
    const body = new URLSearchParams({ _wpnonce: nonce!, _wp_http_referer: screen, wharf_action: 'channel', ...(beta ? { wharf_beta: '1' } : {}) });
    expect((await s.adminFetch(screen, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })).status).toBe(302);
  };
  await setChannel(true);
  const beta = await triggerPluginUpdateCheck(s, ids.plugin);
  expect(beta).toMatchObject({ ok: true, error: null, answer: { version: '2.0-beta1', download_url: expect.stringMatching(downloadUrl()) } });
  expect(beta.answer).not.toHaveProperty('compat_notice');
  await setChannel(false);
  expect(await triggerPluginUpdateCheck(s, ids.plugin)).toMatchObject({ ok: true, answer: { version: '1.1', compat_notice: notice } });
  expect(debugLogProblems()).toEqual([]);
});

it('Wharf stopped: checks fail quietly, the last good answers stay, and wp-admin still renders', async () => {
  const s = wp();
  const products = [
    { kind: 'plugin', id: ids.plugin },
    { kind: 'plugin', id: ids.expired },
    { kind: 'theme', id: ids.theme },
  ] as const;
  const before: CheckerState[] = [];
  for (const p of products) before.push(await readCheckerState(s, p.kind, p.id));
  for (const b of before) expect(b).toMatchObject({ answer: expect.any(Object), error: null });

  await wharf().stop();
  appStopped = true;
  await expect(fetch(`${wharf().url}/health`)).rejects.toThrow(); // The port refuses connections now.

  // Dashboard → Updates → "Check again": WordPress and every checker ask at once, against a dead server.
  const updates = await adminPage(s, '/wp-admin/update-core.php?force-check=1');
  expect(updates).toContain('WordPress Updates');
  for (const [i, p] of products.entries()) {
    const state = await readCheckerState(s, p.kind, p.id);
    expect(state.error?.message).toMatch(/^Could not reach the update server/);
    expect(state.checkedAt).toBeGreaterThanOrEqual(before[i]!.checkedAt);
    expect(state.answer).toEqual(before[i]!.answer);
  }

  // The fixture's explicit checks (evalPhp fails on any PHP warning or notice in the output).
  const checks = [
    await triggerPluginUpdateCheck(s, ids.plugin),
    await triggerPluginUpdateCheck(s, ids.expired),
    await triggerThemeUpdateCheck(s, ids.theme),
  ];
  checks.forEach((c, i) => {
    expect(c.ok).toBe(false);
    expect(c.error?.message).toMatch(/^Could not reach the update server/);
    expect(c.answer).toEqual(before[i]!.answer);
  });

  const plugins = await adminPage(s, '/wp-admin/plugins.php');
  expect(plugins).toMatch(pluginRow(TEST_PLUGIN_FILE));
  expect(plugins).toMatch(pluginRow(EXPIRED_FILE));
  expect(plugins).toContain('Version 1.1');
  expect(plugins).not.toContain('Could not reach the update server'); // Only the license screen tells.
  expect(licenseNotices(plugins)).toEqual([`Wharf Expired Plugin: ${EXPIRED_MESSAGE} Manage your purchase code`]);

  const transient = await readUpdateTransient(s, 'plugins');
  expect(transient.no_update?.[TEST_PLUGIN_FILE]).toMatchObject({ new_version: '1.1' });
  expect(transient.response?.[EXPIRED_FILE]).toMatchObject({ new_version: '1.1', package: '' });
  expect((await readUpdateTransient(s, 'themes')).no_update?.[TEST_THEME_SLUG]).toMatchObject({ new_version: '2.0' });

  const license = await adminPage(s, licenseScreen('plugin', TEST_PLUGIN_SLUG));
  expect(license).toContain('Could not reach the update server');
  expect(license).toContain('The previous answer is kept.');
  expect(debugLogProblems()).toEqual([]);
});
