import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPhpErrors, freePort, installWordPress, type WordPressSite } from '../support/wordpress';
import { buildTestPlugin, TEST_PLUGIN_FILE } from '../support/wp-fixtures';

/** The WordPress harness itself: a real site, our test plugin active, wp-admin served as the admin, WP_DEBUG on. */

const PRODUCT = '1e1e1e1e-0000-4000-8000-000000000001';
let site: WordPressSite;
let work: string;
let startedIn: number;

beforeAll(async () => {
  const t0 = Date.now();
  site = await installWordPress();
  startedIn = Date.now() - t0;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-harness-'));
  // Nothing listens on this port: the client meets a refused connection, as when Wharf is down.
  const serverUrl = `http://127.0.0.1:${await freePort()}`;
  await site.installPlugin(buildTestPlugin({ baseDir: work, version: '1.0', serverUrl, productId: PRODUCT, purchaseCode: 'CODE-1' }));
  await site.activatePlugin(TEST_PLUGIN_FILE);
}, 180_000);

afterAll(async () => {
  await site?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('starts a WordPress site with WP_DEBUG on', async () => {
  // How fast is for the benchmark, not a test: reported only.
  console.log(`[wordpress-harness] site installed and serving in ${startedIn} ms`);
  const info = await site.evalPhp<{ debug: boolean; version: string; home: string; active: string[] }>(
    "return array('debug' => WP_DEBUG, 'version' => get_bloginfo('version'), 'home' => home_url(), 'active' => get_option('active_plugins'));",
  );
  expect(info).toEqual({ debug: true, version: expect.stringMatching(/^\d+\.\d+/), home: site.url, active: [TEST_PLUGIN_FILE] });
});

it('serves wp-admin/plugins.php to the admin, listing the active test plugin, with no PHP warnings', async () => {
  const res = await site.adminFetch('/wp-admin/plugins.php');
  expect(res.status).toBe(200);
  expect(res.body).toMatch(new RegExp(`<tr class="active[^"]*" data-slug="wharf-test-plugin" data-plugin="${TEST_PLUGIN_FILE}"`));
  expect(res.body).toContain('Wharf Test Plugin');
  expect(res.body).toContain('Version 1.0');
  expect(findPhpErrors(res.body)).toEqual([]);
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('keeps the purchase code from activation and reports the unreachable server on the license screen only', async () => {
  const page = await site.adminFetch('/wp-admin/options-general.php?page=wharf-plugin-license-wharf-test-plugin');
  expect(page.status).toBe(200);
  expect(page.body).toContain('value="CODE-1"');
  expect(page.body).toContain('Could not reach the update server');
  expect(findPhpErrors(page.body)).toEqual([]);
  expect((await site.adminFetch('/wp-admin/plugins.php')).body).not.toContain('Could not reach the update server');
  expect(findPhpErrors(site.readDebugLog())).toEqual([]);
});

it('refuses wp-admin without the login cookie', async () => {
  const res = await fetch(`${site.url}/wp-admin/plugins.php`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toContain('wp-login.php');
});
