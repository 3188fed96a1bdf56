import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderClientFile } from '../../src/services/client-files.service';
import { phpString, type WordPressSite } from './wordpress';

/** A test plugin and theme that bundle the Wharf PHP client, and the PHP steps an end-to-end test needs. */

export const TEST_PLUGIN_SLUG = 'wharf-test-plugin';
export const TEST_PLUGIN_FILE = `${TEST_PLUGIN_SLUG}/${TEST_PLUGIN_SLUG}.php`;
export const TEST_THEME_SLUG = 'wharf-test-theme';

export interface FixtureOptions {
  /** Folder the product is written into (as baseDir/slug). */
  baseDir: string;
  version: string;
  serverUrl: string;
  productId: string;
  /** Stored as the purchase code when the plugin is activated / the theme switched to. */
  purchaseCode?: string;
  slug?: string;
  name?: string;
  /** Bundle this client file instead of the rendered current one (e.g. another version's copy). */
  clientContents?: string;
  /** `require` the client twice: its guards must make the second load harmless. */
  includeClientTwice?: boolean;
}

/** PHP namespace of a client file's contents, e.g. \Wharf\UpdateClient\V1_0_0. */
export function clientNamespace(contents: string): string {
  const m = /^namespace\s+([A-Za-z0-9_\\]+);/m.exec(contents);
  if (!m?.[1]) throw new Error('client file has no namespace line');
  return `\\${m[1]}`;
}

/** The same client with another version number (namespace V9_9_9 for 9.9.9), as a newer release would be. */
export function clientWithVersion(contents: string, version: string): string {
  return contents.replaceAll('1_0_0', version.replace(/\./g, '_')).replaceAll('1.0.0', version);
}

/** PHP expression for the running checker of a product. */
export function checkerExpr(kind: 'plugin' | 'theme', productId: string, ns = '\\Wharf\\UpdateClient\\V1_0_0'): string {
  return `${ns}\\Client::instance(${phpString(kind)}, ${phpString(productId)})`;
}

function bootstrap(kind: 'plugin' | 'theme', opts: FixtureOptions, contents: string): string {
  const ns = clientNamespace(contents);
  const file = kind === 'plugin' ? 'plugin_update_check.php' : 'theme_update_check.php';
  const cls = kind === 'plugin' ? 'PluginUpdateChecker' : 'ThemeUpdateChecker';
  const lines = [`require_once __DIR__ . '/inc/${file}';`];
  if (opts.includeClientTwice) lines.push(`require __DIR__ . '/inc/${file}'; // Second load on purpose: must be harmless.`);
  lines.push(`${ns}\\${cls}::boot(__FILE__);`);
  if (opts.purchaseCode !== undefined) {
    const hook = kind === 'plugin' ? 'register_activation_hook(__FILE__, ' : "add_action('after_switch_theme', ";
    lines.push(
      `${hook}function () {`,
      `    $checker = ${checkerExpr(kind, opts.productId, ns)};`,
      `    if ($checker && $checker->getLicenseCode() === '') { $checker->setLicenseCode(${phpString(opts.purchaseCode)}); }`,
      `});`,
    );
  }
  return lines.join('\n');
}

function clientFor(kind: 'plugin' | 'theme', opts: FixtureOptions): string {
  return opts.clientContents ?? renderClientFile(kind, { serverUrl: opts.serverUrl, productId: opts.productId }).contents;
}

/** baseDir/<slug>/ with <slug>.php (header Version: opts.version) and inc/plugin_update_check.php. */
export function buildTestPlugin(opts: FixtureOptions): string {
  const slug = opts.slug ?? TEST_PLUGIN_SLUG;
  const dir = path.join(opts.baseDir, slug);
  const client = clientFor('plugin', opts);
  fs.mkdirSync(path.join(dir, 'inc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'inc', 'plugin_update_check.php'), client);
  const header = [
    '<?php',
    '/**',
    ` * Plugin Name: ${opts.name ?? 'Wharf Test Plugin'}`,
    ' * Description: Bundles the Wharf update client (tests only).',
    ` * Version: ${opts.version}`,
    ' * Requires at least: 5.8',
    ' * Requires PHP: 7.4',
    ' * Author: Wharf tests',
    ' */',
    '',
    "if (!defined('ABSPATH')) { exit; }",
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, `${slug}.php`), `${header}${bootstrap('plugin', opts, client)}\n`);
  return dir;
}

/** baseDir/<slug>/ with style.css (Version: opts.version), index.php, functions.php, inc/theme_update_check.php. */
export function buildTestTheme(opts: FixtureOptions): string {
  const slug = opts.slug ?? TEST_THEME_SLUG;
  const dir = path.join(opts.baseDir, slug);
  const client = clientFor('theme', opts);
  fs.mkdirSync(path.join(dir, 'inc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'inc', 'theme_update_check.php'), client);
  fs.writeFileSync(
    path.join(dir, 'style.css'),
    `/*\nTheme Name: ${opts.name ?? 'Wharf Test Theme'}\nDescription: Bundles the Wharf update client (tests only).\nVersion: ${opts.version}\nRequires at least: 5.8\nRequires PHP: 7.4\nAuthor: Wharf tests\n*/\n`,
  );
  fs.writeFileSync(path.join(dir, 'index.php'), "<?php\nget_header();\necho '<p>Wharf test theme</p>';\nget_footer();\n");
  fs.writeFileSync(path.join(dir, 'functions.php'), `<?php\nif (!defined('ABSPATH')) { exit; }\n${bootstrap('theme', opts, client)}\n`);
  return dir;
}

/** Zips dir as <topFolder>/… (a folder name unlike the installed one exercises the rename on update). */
export function zipDir(dir: string, zipPath: string, topFolder = path.basename(dir)): string {
  zipPath = path.resolve(zipPath);
  fs.mkdirSync(path.dirname(zipPath), { recursive: true });
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-zip-'));
  try {
    fs.cpSync(dir, path.join(staging, topFolder), { recursive: true });
    fs.rmSync(zipPath, { force: true });
    const r = spawnSync('zip', ['-qrX', zipPath, topFolder], { cwd: staging, encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`zip failed: ${r.error?.message ?? r.stderr}`);
    return zipPath;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

// ---- PHP steps, run in the test site (each in its own PHP process, like separate page loads) ----

export interface CheckResult {
  ok: boolean;
  error: { at: number; message: string } | null;
  answer: Record<string, unknown> | null;
}

/** Asks the Wharf server now, as the "Check for updates" link does. */
export function triggerUpdateCheck(site: WordPressSite, kind: 'plugin' | 'theme', productId: string, ns?: string): Promise<CheckResult> {
  return site.evalPhp<CheckResult>(`
    $c = ${checkerExpr(kind, productId, ns)};
    if (!$c) { throw new Exception('no ${kind} checker for ' . ${phpString(productId)}); }
    $ok = $c->checkNow();
    return array('ok' => $ok, 'error' => $c->getLastError(), 'answer' => $c->getUpdate());`);
}

export const triggerPluginUpdateCheck = (site: WordPressSite, productId: string, ns?: string) => triggerUpdateCheck(site, 'plugin', productId, ns);
export const triggerThemeUpdateCheck = (site: WordPressSite, productId: string, ns?: string) => triggerUpdateCheck(site, 'theme', productId, ns);

export function setPurchaseCode(site: WordPressSite, kind: 'plugin' | 'theme', productId: string, code: string, ns?: string): Promise<boolean> {
  return site.evalPhp<boolean>(`${checkerExpr(kind, productId, ns)}->setLicenseCode(${phpString(code)}); return true;`);
}

/** update_plugins / update_themes as WordPress reads it (with the clients' filters applied). */
export function readUpdateTransient<T = UpdateTransient>(site: WordPressSite, which: 'plugins' | 'themes'): Promise<T> {
  return site.evalPhp<T>(`return get_site_transient(${phpString(`update_${which}`)});`);
}

export interface UpdateTransient {
  response?: Record<string, Record<string, unknown>>;
  no_update?: Record<string, Record<string, unknown>>;
}

/** What the "View details" modal gets for a plugin slug. */
export function pluginInformation(site: WordPressSite, slug: string): Promise<Record<string, unknown>> {
  return site.evalPhp(`
    require_once ABSPATH . 'wp-admin/includes/plugin-install.php';
    $r = plugins_api('plugin_information', array('slug' => ${phpString(slug)}));
    return is_wp_error($r) ? array('error' => $r->get_error_message()) : $r;`);
}

export interface UpgradeResult {
  ok: boolean;
  error: string | null;
  messages: string[];
  version: string;
  active: boolean;
}

// upgrade() returns null when the download fails: the skin is where WordPress reports errors.
const SKIN = `
    require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
    $skin = new class extends Automatic_Upgrader_Skin {
        public $errors = array();
        public function error($errors) {
            $this->errors[] = is_wp_error($errors) ? $errors->get_error_message() : (string) $errors;
            parent::error($errors);
        }
    };`;
const UPGRADE_RESULT = `
    $error = is_wp_error($result) ? $result->get_error_message() : ($skin->errors ? implode("\n", $skin->errors) : null);
    $messages = array_map('wp_strip_all_tags', $skin->get_upgrade_messages());`;

/** Plugin_Upgrader as WordPress runs it, then re-activation as the Plugins screen does (upgrade() deactivates). */
export function upgradePlugin(site: WordPressSite, file = TEST_PLUGIN_FILE): Promise<UpgradeResult> {
  return site.evalPhp<UpgradeResult>(`
    ${SKIN}
    $result = (new Plugin_Upgrader($skin))->upgrade(${phpString(file)});
    ${UPGRADE_RESULT}
    if ($result === true) { activate_plugin(${phpString(file)}); }
    $data = get_plugin_data(WP_PLUGIN_DIR . '/' . ${phpString(file)}, false, false);
    return array('ok' => $result === true, 'error' => $error, 'messages' => $messages, 'version' => $data['Version'], 'active' => is_plugin_active(${phpString(file)}));`);
}

/** Theme_Upgrader as WordPress runs it. */
export function upgradeTheme(site: WordPressSite, stylesheet = TEST_THEME_SLUG): Promise<UpgradeResult> {
  return site.evalPhp<UpgradeResult>(`
    ${SKIN}
    $result = (new Theme_Upgrader($skin))->upgrade(${phpString(stylesheet)});
    ${UPGRADE_RESULT}
    wp_clean_themes_cache();
    $theme = wp_get_theme(${phpString(stylesheet)});
    return array('ok' => $result === true, 'error' => $error, 'messages' => $messages, 'version' => (string) $theme->get('Version'), 'active' => get_stylesheet() === ${phpString(stylesheet)});`);
}
