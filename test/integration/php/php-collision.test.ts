import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderClientFile } from '../../../src/services/client-files.service';
import { findPhpErrors, freePort, installWordPress, type WordPressSite } from '../../support/wordpress';
import {
  buildTestPlugin,
  buildTestTheme,
  clientWithVersion,
  pluginInformation,
  readUpdateTransient,
  triggerPluginUpdateCheck,
  upgradePlugin,
  upgradeTheme,
  zipDir,
  TEST_PLUGIN_FILE,
} from '../../support/wp-fixtures';

/**
 * One real WordPress loads, in one PHP process: global classes of old update checkers, the current
 * plugin client (included twice), a 9.9.9 copy of it for another product, and the theme client.
 * Wharf's API is being built elsewhere, so the "server" here is `php -S` with a router that serves
 * static JSON files written in the update-check and license contract (and logs what it received).
 */

const A = '0a0a0a0a-0000-4000-8000-00000000000a'; // wharf-test-plugin, client 1.0.0
const B = '0b0b0b0b-0000-4000-8000-00000000000b'; // wharf-other-plugin, client 9.9.9
const C = '0c0c0c0c-0000-4000-8000-00000000000c'; // wharf-test-theme, theme client 1.0.0
const V1 = '\\Wharf\\UpdateClient\\V1_0_0';
const V9 = '\\Wharf\\UpdateClient\\V9_9_9';
const B_MESSAGE = 'Your purchase code expired on 2026-01-01 <script>alert(1)</script> & cannot download.';

const ROUTER = `<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$body = file_get_contents('php://input');
file_put_contents(__DIR__ . '/requests.log', json_encode(array('method' => $_SERVER['REQUEST_METHOD'], 'path' => $path,
    'post' => $_POST, 'json' => json_decode($body, true), 'ua' => isset($_SERVER['HTTP_USER_AGENT']) ? $_SERVER['HTTP_USER_AGENT'] : '')) . "\\n", FILE_APPEND);
$file = __DIR__ . '/answers' . str_replace('..', '', $path);
if (preg_match('#\\.zip$#', $path) && is_file($file)) { header('Content-Type: application/zip'); readfile($file); return true; }
if (preg_match('#^/redirect/(.+)$#', $path, $m)) { header('Location: http://localhost:' . $_SERVER['SERVER_PORT'] . '/' . $m[1], true, 302); return true; }
header('Content-Type: application/json');
if (is_file($file . '.json')) {
    $answer = json_decode(file_get_contents($file . '.json'), true);
    http_response_code(isset($answer['status']) ? $answer['status'] : 200);
    echo isset($answer['raw']) ? $answer['raw'] : json_encode($answer['body']);
    return true;
}
http_response_code(404);
echo json_encode(array('error' => array('code' => 'not_found', 'message' => 'Unknown product')));
`;

let site: WordPressSite;
let work: string;
let server: ChildProcess;
let serverUrl: string;

function answer(route: string, body: unknown, status = 200, raw?: string): void {
  const file = path.join(work, 'answers', `${route}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ status, body, raw }));
}

const pluginAnswer = (version: string, extra: Record<string, unknown> = {}) => ({
  name: 'Wharf Test Plugin', slug: 'ignored', version, homepage: 'https://example.test/plugin', requires: '5.8', tested: '6.1',
  requires_php: '7.4', last_updated: '2026-11-01 10:00:00', upgrade_notice: 'Safe to update.', author: 'Wharf tests',
  author_homepage: 'https://example.test', sections: { description: '<p>Test plugin</p>', changelog: '<h4>1.1</h4><p>Better.</p>' },
  banners: {}, icons: {}, ...extra,
});

function requests(): Array<{ method: string; path: string; post: Record<string, string>; json: Record<string, string> | null; ua: string }> {
  const log = path.join(work, 'requests.log');
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-collision-'));
  fs.writeFileSync(path.join(work, 'router.php'), ROUTER);
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}`;
  server = spawn('php', ['-S', `127.0.0.1:${port}`, path.join(work, 'router.php')], { cwd: work, stdio: 'ignore' });
  answer(`api/v1/updates/${A}`, pluginAnswer('1.1', { download_url: `${serverUrl}/redirect/files/a-1.1.zip` }));
  answer(`api/v1/updates/${B}`, pluginAnswer('2.5', { name: 'Wharf Other Plugin', license_error: { code: 'expired', message: B_MESSAGE } }));
  answer(`api/v1/updates/${C}`, { name: 'Wharf Test Theme', version: '1.2', details_url: 'https://example.test/theme', download_url: `${serverUrl}/files/c.zip` });

  site = await installWordPress();
  fs.copyFileSync(path.resolve(__dirname, '../../../clients/php/test-fixtures/old-update-checkers.php'), path.join(site.dir, 'wp-content/mu-plugins/old-update-checkers.php'));
  const build = path.join(work, 'build');
  await site.installPlugin(buildTestPlugin({ baseDir: build, version: '1.0', serverUrl, productId: A, purchaseCode: 'CODE-A', includeClientTwice: true }));
  const newer = clientWithVersion(renderClientFile('plugin', { serverUrl, productId: B }).contents, '9.9.9');
  await site.installPlugin(buildTestPlugin({ baseDir: build, slug: 'wharf-other-plugin', name: 'Wharf Other Plugin', version: '2.0', serverUrl, productId: B, clientContents: newer }));
  await site.installTheme(buildTestTheme({ baseDir: build, version: '1.0', serverUrl, productId: C }));
  await site.activatePlugin(TEST_PLUGIN_FILE);
  await site.activatePlugin('wharf-other-plugin/wharf-other-plugin.php');
  await site.activateTheme('wharf-test-theme');
  // The release 1.1 zip, with a folder name unlike the installed one (the client renames it).
  const release = buildTestPlugin({ baseDir: path.join(work, 'release'), version: '1.1', serverUrl, productId: A });
  zipDir(release, path.join(work, 'answers/files/a-1.1.zip'), 'wharf-test-plugin-1.1');
  zipDir(buildTestTheme({ baseDir: path.join(work, 'release'), version: '1.2', serverUrl, productId: C }), path.join(work, 'answers/files/c.zip'), 'theme-1.2');
}, 60_000);

afterAll(async () => {
  await site?.stop();
  server?.kill();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('loads next to old checkers, twice, and next to another version; each answers for its own product', async () => {
  const r = await site.evalPhp<Record<string, any>>(`
    $file = function ($class) { return class_exists($class, false) ? substr((new ReflectionClass($class))->getFileName(), strlen(realpath(WP_CONTENT_DIR)) + 1) : null; };
    $old = array();
    foreach (array('PluginUpdateChecker', 'PluginUpdateChecker_3_2', 'Puc_v4_Factory', 'WP_Update_Checker', 'ThemeUpdateChecker', 'Wharf_Update_Checker') as $class) { $old[$class] = $file($class); }
    $checkers = array(${V1}\\Client::instance('plugin', '${A}'), ${V9}\\Client::instance('plugin', '${B}'), ${V1}\\Client::instance('theme', '${C}'));
    $globals = array_values(array_filter(array_merge(get_declared_classes(), get_defined_functions()['user']), function ($n) { return stripos($n, 'wharf') !== false && strpos($n, '\\\\') === false; }));
    return array(
      'old' => $old, 'globals' => $globals,
      'v1' => $file('${V1}\\PluginUpdateChecker'), 'v9' => $file('${V9}\\PluginUpdateChecker'), 'theme' => $file('${V1}\\ThemeUpdateChecker'),
      'versions' => array(${V1}\\Client::VERSION, ${V9}\\Client::VERSION),
      'checks' => array_map(function ($c) { return $c->checkNow(); }, $checkers),
      'plugins' => get_site_transient('update_plugins'), 'themes' => get_site_transient('update_themes'),
    );`);
  expect(Object.values(r.old)).toEqual(Array(6).fill('mu-plugins/old-update-checkers.php'));
  expect(r.globals.sort()).toEqual(['Wharf_Update_Checker', 'wharf_old_update_checkers_loaded'].sort()); // Only the fixture's.
  expect([r.v1, r.v9, r.theme]).toEqual([
    'plugins/wharf-test-plugin/inc/plugin_update_check.php',
    'plugins/wharf-other-plugin/inc/plugin_update_check.php',
    'themes/wharf-test-theme/inc/theme_update_check.php',
  ]);
  expect(r.versions).toEqual(['1.0.0', '9.9.9']);
  expect(r.checks).toEqual([true, true, true]);
  const mine = r.plugins.response[TEST_PLUGIN_FILE];
  expect(mine).toMatchObject({ slug: 'wharf-test-plugin', plugin: TEST_PLUGIN_FILE, new_version: '1.1', package: `${serverUrl}/redirect/files/a-1.1.zip`, tested: '6.1', requires_php: '7.4' });
  expect(r.plugins.response['wharf-other-plugin/wharf-other-plugin.php']).toMatchObject({ new_version: '2.5', package: '' });
  expect(r.themes.response['wharf-test-theme']).toEqual({ theme: 'wharf-test-theme', new_version: '1.2', url: 'https://example.test/theme', package: `${serverUrl}/files/c.zip`, requires: '', requires_php: '' });
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('sends the update-check contract: installed version, PHP, locale, WordPress, domain, purchase code', () => {
  const mine = requests().filter((q) => q.path === `/api/v1/updates/${A}`).pop();
  expect(mine).toMatchObject({ method: 'POST', ua: `WordPress/6.1.9; ${site.url}/` });
  expect(mine?.post).toEqual({ installed_version: '1.0', php: expect.stringMatching(/^8\./), locale: 'en_US', checking_for_updates: '1', license: 'CODE-A', domain: site.url, wp: '6.1.9', channel: 'stable' });
});

it('shows the update and the server’s license message (escaped) on the Plugins and Updates screens', async () => {
  for (const page of ['/wp-admin/plugins.php', '/wp-admin/update-core.php']) {
    const res = await site.adminFetch(page);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Wharf Other Plugin:</strong> Your purchase code expired on 2026-01-01 &lt;script&gt;alert(1)&lt;/script&gt; &amp; cannot download.');
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).toContain('options-general.php?page=wharf-plugin-license-wharf-other-plugin');
    expect(findPhpErrors(res.body)).toEqual([]);
  }
  const plugins = (await site.adminFetch('/wp-admin/plugins.php')).body;
  expect(plugins).toMatch(/There is a new version of Wharf Test Plugin available/);
  expect(plugins).toContain('Check for updates');
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('answers the "View details" modal from the cached answer', async () => {
  const info = await pluginInformation(site, 'wharf-test-plugin');
  expect(info).toMatchObject({ name: 'Wharf Test Plugin', slug: 'wharf-test-plugin', version: '1.1', requires: '5.8', tested: '6.1', author: '<a href="https://example.test">Wharf tests</a>' });
  expect(info.sections).toEqual({ description: '<p>Test plugin</p>', changelog: '<h4>1.1</h4><p>Better.</p>' });
});

it('the "Check for updates" link needs its nonce, checks at once and comes back', async () => {
  const plugins = (await site.adminFetch('/wp-admin/plugins.php')).body;
  const href = new RegExp(`href="([^"]*wharf_uc_check=${A}[^"]*)"`).exec(plugins)?.[1]?.replace(/&amp;|&#038;/g, '&');
  expect(href).toContain('_wpnonce=');
  const before = requests().length;
  const res = await site.adminFetch(new URL(href!).pathname + new URL(href!).search, { headers: { referer: `${site.url}/wp-admin/plugins.php` } });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toContain(`wharf_uc_checked=${A}`);
  expect(requests().length).toBe(before + 1);
  const forged = await site.adminFetch(`/wp-admin/plugins.php?wharf_uc_check=${A}&_wpnonce=nope`);
  expect(forged.status).toBe(403);
});

it('keeps the last good answer when the server fails, and tells only its own settings screen', async () => {
  answer(`api/v1/updates/${A}`, null, 200, 'not json');
  let check = await triggerPluginUpdateCheck(site, A);
  expect(check).toMatchObject({ ok: false, answer: { version: '1.1' }, error: { message: 'The update server did not answer valid JSON.' } });
  answer(`api/v1/updates/${A}`, { error: { code: 'boom', message: 'Database down' } }, 503);
  check = await triggerPluginUpdateCheck(site, A);
  expect(check.error?.message).toBe('The update server answered HTTP 503: Database down');
  expect((await readUpdateTransient(site, 'plugins')).response?.[TEST_PLUGIN_FILE]?.new_version).toBe('1.1');
  const settings = await site.adminFetch('/wp-admin/options-general.php?page=wharf-plugin-license-wharf-test-plugin');
  expect(settings.body).toContain('failed: The update server answered HTTP 503: Database down');
  expect((await site.adminFetch('/wp-admin/plugins.php')).body).not.toContain('Database down');
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
  answer(`api/v1/updates/${A}`, pluginAnswer('1.1', { download_url: `${serverUrl}/redirect/files/a-1.1.zip` }));
  expect((await triggerPluginUpdateCheck(site, A)).ok).toBe(true);
});

it('saves and activates a purchase code from the settings screen (nonce, then the license API)', async () => {
  const license = { status: 'active', expires_at: '2027-03-03', downloads_used: 1, downloads_allowed: 5, sites_used: 1, sites_allowed: 3, site_active: true };
  answer('api/v1/licenses/activate', { license });
  const pageUrl = '/wp-admin/options-general.php?page=wharf-plugin-license-wharf-test-plugin';
  const page = await site.adminFetch(pageUrl);
  const nonce = /name="_wpnonce" value="([^"]+)"/.exec(page.body)?.[1];
  expect(nonce).toBeTruthy();
  const post = (fields: Record<string, string>) =>
    site.adminFetch(pageUrl, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect((await post({ _wpnonce: 'bad', wharf_action: 'activate', wharf_license: 'X' })).status).toBe(403);
  const saved = await post({ _wpnonce: nonce!, _wp_http_referer: pageUrl, wharf_action: 'activate', wharf_license: 'NEW-CODE' });
  expect(saved.status).toBe(302);
  const activation = requests().filter((q) => q.path === '/api/v1/licenses/activate').pop();
  expect(activation?.json).toEqual({ productId: A, license: 'NEW-CODE', domain: site.url });
  const after = (await site.adminFetch(pageUrl)).body;
  expect(after).toContain('Purchase code saved and this site activated.');
  expect(after).toContain('value="NEW-CODE"');
  expect(after).toMatch(/2027-03-03[\s\S]*1 of 3[\s\S]*1 of 5/);
  expect(findPhpErrors(after)).toEqual([]);
});

it('a beta channel setting on the license screen sends channel=beta; compat_notice shows on the Updates screen', async () => {
  const pageUrl = '/wp-admin/options-general.php?page=wharf-plugin-license-wharf-test-plugin';
  const page = await site.adminFetch(pageUrl);
  expect(page.body).toMatch(/<input type="checkbox" id="wharf-beta" name="wharf_beta" value="1" \/>/);
  const nonce = /name="_wpnonce" value="([^"]+)"/.exec(page.body)?.[1];
  const post = (fields: Record<string, string>) =>
    site.adminFetch(pageUrl, { method: 'POST', body: new URLSearchParams({ _wpnonce: nonce!, _wp_http_referer: pageUrl, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const notice = 'Version 2.0 needs PHP 99.0 or later (this site runs PHP 8.2); update PHP to get it.';
  answer(`api/v1/updates/${A}`, pluginAnswer('1.1', { download_url: `${serverUrl}/redirect/files/a-1.1.zip`, compat_notice: notice }));
  expect((await post({ wharf_action: 'channel', wharf_beta: '1' })).status).toBe(302);
  const check = requests().filter((q) => q.path === `/api/v1/updates/${A}`).pop();
  expect(check?.post).toMatchObject({ channel: 'beta', license: 'NEW-CODE' });
  const after = (await site.adminFetch(pageUrl)).body;
  expect(after).toContain('This site now receives beta releases.');
  expect(after).toMatch(/name="wharf_beta" value="1" checked="checked"/);
  const updates = (await site.adminFetch('/wp-admin/update-core.php')).body;
  expect(updates).toContain(`<div class="notice notice-info wharf-compat-notice"><p><strong>Wharf Test Plugin:</strong> ${notice}</p></div>`);

  answer(`api/v1/updates/${A}`, pluginAnswer('1.1', { download_url: `${serverUrl}/redirect/files/a-1.1.zip` }));
  expect((await post({ wharf_action: 'channel' })).status).toBe(302);
  expect(requests().filter((q) => q.path === `/api/v1/updates/${A}`).pop()?.post.channel).toBe('stable');
  expect((await site.adminFetch('/wp-admin/update-core.php')).body).not.toContain('wharf-compat-notice');
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('updates the plugin through WordPress’s upgrader: redirect followed, folder renamed, re-activated', async () => {
  const result = await upgradePlugin(site);
  expect(result).toMatchObject({ ok: true, error: null, version: '1.1', active: true });
  expect(fs.existsSync(path.join(site.dir, 'wp-content/plugins/wharf-test-plugin-1.1'))).toBe(false);
  answer(`api/v1/updates/${A}`, pluginAnswer('1.2', { download_url: `${serverUrl}/download/refused` }));
  answer('download/refused', { error: { code: 'expired', message: 'Your purchase code expired on 2026-01-01.' } }, 403);
  expect((await triggerPluginUpdateCheck(site, A)).ok).toBe(true);
  const refused = await upgradePlugin(site);
  expect(refused).toMatchObject({ ok: false, version: '1.1' });
  expect(refused.error).toBe('Download failed: Your purchase code expired on 2026-01-01.');
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('updates the theme through WordPress’s upgrader, into its own folder', async () => {
  const result = await upgradeTheme(site);
  expect(result).toMatchObject({ ok: true, error: null, version: '1.2', active: true });
  expect(fs.existsSync(path.join(site.dir, 'wp-content/themes/theme-1.2'))).toBe(false);
  expect((await readUpdateTransient(site, 'themes')).no_update?.['wharf-test-theme']).toMatchObject({ new_version: '1.2' });
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});
