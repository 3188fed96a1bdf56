import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real WordPress (Debian's package) on a fresh MariaDB database, served by `php -S`.
 * Fails loudly when PHP, WordPress or MariaDB is missing: these tests must never skip.
 */

export const WORDPRESS_SOURCE = '/usr/share/wordpress';
const RESULT_MARKER = '@@WHARF_RESULT@@';

export interface PhpResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface FetchResult {
  status: number;
  headers: Headers;
  body: string;
}

export interface WordPressSite {
  url: string;
  port: number;
  dir: string;
  dbName: string;
  admin: { id: number; login: string; password: string };
  /** Runs PHP after wp-load.php and the admin includes, as the admin user. */
  runPhp(code: string, opts?: { admin?: boolean }): Promise<PhpResult>;
  /** Runs `code` as a function body; returns what it returns (JSON round-trip). Throws on PHP errors. */
  evalPhp<T = unknown>(code: string, opts?: { admin?: boolean }): Promise<T>;
  installPlugin(srcDir: string): Promise<string>;
  activatePlugin(file: string): Promise<void>;
  installTheme(srcDir: string): Promise<string>;
  activateTheme(stylesheet: string): Promise<void>;
  /** Cookie header of a logged-in admin session. */
  loginCookie(): Promise<string>;
  /** HTTP request as the admin; redirects are not followed. */
  adminFetch(pathAndQuery: string, init?: RequestInit): Promise<FetchResult>;
  readDebugLog(): string;
  stop(): Promise<void>;
}

// WordPress 6.1 bundles Requests 1.8, whose classes PHP 8.1+ flags on load (fixed in WordPress 6.2): core's, not ours.
const CORE_PHP82_NOISE = /Deprecated(?:<\/b>)?:\s+Return type of Requests_[A-Za-z_]+::/;

/** PHP warnings, notices, deprecations and errors in HTML output or a log (minus core's known PHP 8.2 noise). */
export function findPhpErrors(text: string): string[] {
  const re = /(?:<b>)?(?:PHP )?(Warning|Notice|Deprecated|Fatal error|Parse error|Strict Standards|Recoverable fatal error)(?:<\/b>)?:\s.{0,300}/g;
  return (text.match(re) ?? []).filter((line) => !CORE_PHP82_NOISE.test(line));
}

/** A PHP single-quoted string literal. */
export function phpString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): PhpResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { stdout: '', stderr: String(r.error.message), code: -1 };
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

function runAsync(cmd: string, args: string[], cwd: string): Promise<PhpResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ stdout, stderr: stderr + e.message, code: -1 }));
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function mariadb(sql: string): void {
  const r = run('mariadb', ['-uroot', '--batch', '-e', sql]);
  if (r.code !== 0) throw new Error(`MariaDB (root over the socket) failed: ${r.stderr.trim()}\nSQL: ${sql}`);
}

/** Clear errors instead of confusing failures later. */
function checkPrerequisites(): string {
  const php = run('php', ['-r', 'echo PHP_VERSION, " ", extension_loaded("mysqli") ? "mysqli" : "no-mysqli";']);
  if (php.code !== 0) throw new Error('PHP CLI is required for the WordPress tests (apt-get install php-cli php-mysql php-curl php-xml php-mbstring php-zip).');
  if (!php.stdout.includes('mysqli')) throw new Error('PHP has no mysqli extension (apt-get install php-mysql).');
  if (!fs.existsSync(path.join(WORDPRESS_SOURCE, 'wp-settings.php'))) throw new Error(`WordPress not found in ${WORDPRESS_SOURCE} (apt-get install wordpress).`);
  const db = run('mariadb', ['-uroot', '--batch', '--skip-column-names', '-e', 'SELECT @@socket']);
  if (db.code !== 0) {
    throw new Error(
      `MariaDB is not reachable as root over its socket (${db.stderr.trim() || 'mariadb client missing'}). ` +
        'Start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    );
  }
  return db.stdout.trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHttp(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`php -S exited (${server.exitCode}): ${log()}`);
    try {
      await fetch(url, { redirect: 'manual' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`php -S did not answer at ${url}: ${log()}`);
}

function wpConfig(db: { name: string; user: string; password: string; host: string }, url: string, dir: string): string {
  const salts = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT']
    .map((k) => `define('${k}', '${randomBytes(24).toString('hex')}');`)
    .join('\n');
  return `<?php
// Written by the Wharf test harness (Debian's wp-config.php reads /etc/wordpress instead).
define('DB_NAME', '${db.name}');
define('DB_USER', '${db.user}');
define('DB_PASSWORD', '${db.password}');
define('DB_HOST', '${db.host}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
${salts}
$table_prefix = 'wp_';
define('WP_HOME', '${url}');
define('WP_SITEURL', '${url}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_CONTENT_URL', '${url}/wp-content');
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', ${phpString(path.join(dir, 'debug.log'))});
define('WP_DEBUG_DISPLAY', true);
define('SCRIPT_DEBUG', false);
define('FS_METHOD', 'direct');
define('DISABLE_WP_CRON', true); // Tests trigger checks themselves; no background loopback requests.
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true); // No internet: api.wordpress.org must fail at once, not time out.
define('WP_ACCESSIBLE_HOSTS', 'localhost,127.0.0.1');
if (!defined('ABSPATH')) { define('ABSPATH', __DIR__ . '/'); }
require_once ABSPATH . 'wp-settings.php';
`;
}

// Test-only PHP for the site: the install script and an mu-plugin (loopback servers allowed, wordpress.org stubbed).
const FIXTURES = path.resolve(__dirname, '../../clients/php/test-fixtures');

function copyWordPress(dir: string): void {
  // Copies (not symlinks): PHP resolves symlinks in __FILE__, which would load Debian's wp-config.php.
  const entries = fs.readdirSync(WORDPRESS_SOURCE).filter((f) => f.endsWith('.php') && f !== 'wp-config.php');
  const args = ['-rL', ...['wp-admin', 'wp-includes', ...entries].map((f) => path.join(WORDPRESS_SOURCE, f)), dir];
  const r = run('cp', args);
  if (r.code !== 0) throw new Error(`Copying WordPress failed: ${r.stderr}`);
  for (const sub of ['plugins', 'themes', 'mu-plugins', 'uploads', 'upgrade']) fs.mkdirSync(path.join(dir, 'wp-content', sub), { recursive: true });
  const theme = run('cp', ['-rL', path.join(WORDPRESS_SOURCE, 'wp-content/themes/twentytwentythree'), path.join(dir, 'wp-content/themes/')]);
  if (theme.code !== 0) throw new Error(`Copying the default theme failed: ${theme.stderr}`);
}

export async function installWordPress(opts: { siteDir?: string; port?: number } = {}): Promise<WordPressSite> {
  const socket = checkPrerequisites();
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const dir = opts.siteDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-wp-'));
  fs.mkdirSync(dir, { recursive: true });
  const id = randomBytes(5).toString('hex');
  const db = { name: `wharf_wp_${id}`, user: `wharf_wp_${id}`, password: randomBytes(12).toString('hex'), host: `localhost:${socket}` };
  const adminPassword = randomBytes(12).toString('hex');
  let server: ChildProcess | undefined;
  let serverLog = '';
  let stopped = false;
  // php -S forks workers (PHP_CLI_SERVER_WORKERS): signal its whole process group.
  const signalServer = (sig: NodeJS.Signals) => {
    try {
      if (server?.pid) process.kill(-server.pid, sig);
    } catch {
      // Already gone.
    }
  };
  const killServer = () => signalServer('SIGKILL');
  process.once('exit', killServer); // No orphan php -S if the test run dies.

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killServer);
    if (server) {
      const exited = server.exitCode === null ? new Promise((r) => server!.once('exit', r)) : Promise.resolve();
      signalServer('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
      killServer();
    }
    mariadb(`DROP DATABASE IF EXISTS \`${db.name}\`; DROP USER IF EXISTS '${db.user}'@'localhost';`);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    copyWordPress(dir);
    fs.writeFileSync(path.join(dir, 'wp-config.php'), wpConfig(db, url, dir));
    fs.copyFileSync(path.join(FIXTURES, 'wp-test-mu-plugin.php'), path.join(dir, 'wp-content/mu-plugins/wharf-test-harness.php'));
    mariadb(
      `CREATE DATABASE \`${db.name}\` CHARACTER SET utf8mb4; CREATE USER '${db.user}'@'localhost' IDENTIFIED BY '${db.password}';` +
        ` GRANT ALL PRIVILEGES ON \`${db.name}\`.* TO '${db.user}'@'localhost';`,
    );
    fs.copyFileSync(path.join(FIXTURES, 'wp-install.php'), path.join(dir, '.wharf-install.php'));
    const install = spawnSync('php', ['.wharf-install.php'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, WHARF_WP_HOST: `127.0.0.1:${port}`, WHARF_WP_PASSWORD: adminPassword },
    });
    if (install.status !== 0 || !install.stdout.includes('"user_id"')) {
      throw new Error(`wp_install failed (${install.status}): ${install.stdout}\n${install.stderr}`);
    }
    fs.writeFileSync(path.join(dir, 'debug.log'), ''); // Core's own noise while installing is not what tests examine.
    server = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', dir], {
      cwd: dir,
      detached: true, // Own process group, so stop() reaches the workers too.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PHP_CLI_SERVER_WORKERS: '4' },
    });
    const keep = (d: Buffer) => (serverLog = (serverLog + d.toString()).slice(-20_000));
    server.stdout?.on('data', keep);
    server.stderr?.on('data', keep);
    await waitForHttp(`${url}/wp-includes/images/blank.gif`, server, () => serverLog); // Static: wp-login.php would log core's PHP 8.2 notices.
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return makeSite({ url, port, dir, dbName: db.name, adminPassword, stop });
}

function makeSite(s: { url: string; port: number; dir: string; dbName: string; adminPassword: string; stop: () => Promise<void> }): WordPressSite {
  let runs = 0;
  let cookie: string | undefined;
  const host = new URL(s.url).host;

  const runPhp = async (code: string, opts: { admin?: boolean } = {}): Promise<PhpResult> => {
    const file = path.join(s.dir, `.wharf-run-${process.pid}-${++runs}.php`);
    const script = `<?php
$_SERVER['HTTP_HOST'] = '${host}'; $_SERVER['SERVER_NAME'] = '127.0.0.1'; $_SERVER['SERVER_PORT'] = '${s.port}';
$_SERVER['REQUEST_URI'] = '/wp-admin/'; $_SERVER['REQUEST_METHOD'] = 'GET'; $_SERVER['REMOTE_ADDR'] = '127.0.0.1';
${opts.admin ? "define('WP_ADMIN', true);" : ''}
require __DIR__ . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';
wp_set_current_user(1);
$wharf_result = (function () {
${code}
})();
echo "\\n${RESULT_MARKER}", json_encode($wharf_result);
`;
    fs.writeFileSync(file, script);
    try {
      return await runAsync('php', [file], s.dir);
    } finally {
      fs.rmSync(file, { force: true });
    }
  };

  const evalPhp = async <T>(code: string, opts: { admin?: boolean } = {}): Promise<T> => {
    const r = await runPhp(code, opts);
    const at = r.stdout.lastIndexOf(RESULT_MARKER);
    const before = at >= 0 ? r.stdout.slice(0, at) : r.stdout;
    const problems = findPhpErrors(before + r.stderr);
    if (r.code !== 0 || at < 0 || problems.length) {
      throw new Error(`PHP failed (exit ${r.code}):\n${before.slice(-4000)}\n${r.stderr.slice(-4000)}`);
    }
    return JSON.parse(r.stdout.slice(at + RESULT_MARKER.length)) as T;
  };

  const copyInto = (srcDir: string, sub: string): string => {
    const dest = path.join(s.dir, 'wp-content', sub, path.basename(srcDir));
    fs.rmSync(dest, { recursive: true, force: true });
    fs.cpSync(srcDir, dest, { recursive: true });
    return dest;
  };

  const adminFetch = async (pathAndQuery: string, init: RequestInit = {}): Promise<FetchResult> => {
    cookie ??= await site.loginCookie();
    const headers = new Headers(init.headers);
    headers.set('cookie', cookie);
    const res = await fetch(s.url + pathAndQuery, { redirect: 'manual', ...init, headers });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  const site: WordPressSite = {
    url: s.url,
    port: s.port,
    dir: s.dir,
    dbName: s.dbName,
    admin: { id: 1, login: 'admin', password: s.adminPassword },
    runPhp,
    evalPhp,
    installPlugin: async (srcDir) => copyInto(srcDir, 'plugins'),
    installTheme: async (srcDir) => copyInto(srcDir, 'themes'),
    async activatePlugin(file) {
      await evalPhp(`$r = activate_plugin(${phpString(file)}); if (is_wp_error($r)) { throw new Exception($r->get_error_message()); } return true;`);
    },
    async activateTheme(stylesheet) {
      await evalPhp(`switch_theme(${phpString(stylesheet)}); return get_stylesheet();`);
    },
    async loginCookie() {
      const jar = await evalPhp<Record<string, string>>(`
        $expires = time() + DAY_IN_SECONDS;
        $token = WP_Session_Tokens::get_instance(1)->create($expires);
        return array(
          AUTH_COOKIE => wp_generate_auth_cookie(1, $expires, 'auth', $token),
          LOGGED_IN_COOKIE => wp_generate_auth_cookie(1, $expires, 'logged_in', $token),
          TEST_COOKIE => 'WP Cookie check',
        );`);
      return Object.entries(jar)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join('; ');
    },
    adminFetch,
    readDebugLog: () => {
      const file = path.join(s.dir, 'debug.log');
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    },
    stop: s.stop,
  };
  return site;
}
