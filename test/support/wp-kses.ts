import { spawnSync } from 'node:child_process';
import { WORDPRESS_SOURCE } from './wordpress';

/**
 * WordPress's own wp_kses and get_file_data (Debian's package, loaded without a database) with the `$plugins_allowedtags`
 * array read out of wp-admin/includes/plugin-install.php: what the "View details" modal does to sections.
 * Fails loudly when PHP or WordPress is missing.
 */
const SCRIPT = String.raw`
define('ABSPATH', $argv[1] . '/');
define('WPINC', 'wp-includes');
define('KB_IN_BYTES', 1024);
require ABSPATH . WPINC . '/plugin.php';
require ABSPATH . WPINC . '/formatting.php';
require ABSPATH . WPINC . '/functions.php';
require ABSPATH . WPINC . '/kses.php';
$source = file_get_contents(ABSPATH . 'wp-admin/includes/plugin-install.php');
if (!preg_match('/\$plugins_allowedtags\s*=\s*(array\(.*?\n\t\));/s', $source, $m)) { fwrite(STDERR, "no \$plugins_allowedtags\n"); exit(2); }
$allowed = eval('return ' . $m[1] . ';');
$inputs = json_decode(stream_get_contents(STDIN), true);
if (($argv[2] ?? '') === 'file_data') {
  $out = array();
  foreach ($inputs['files'] as $b64) {
    $path = tempnam(sys_get_temp_dir(), 'wharf-headers');
    file_put_contents($path, base64_decode($b64));
    $out[] = get_file_data($path, $inputs['headers']);
    unlink($path);
  }
  echo json_encode($out, JSON_INVALID_UTF8_SUBSTITUTE);
  exit(0);
}
echo json_encode(array(
  'version' => (function () { include ABSPATH . WPINC . '/version.php'; return $wp_version; })(),
  'allowed' => $allowed,
  'outputs' => array_map(fn($html) => wp_kses($html, $allowed), $inputs),
));
`;

export interface KsesResult {
  version: string;
  /** tag => attribute => true/array(), as PHP declares it. */
  allowed: Record<string, Record<string, unknown> | unknown[]>;
  outputs: string[];
}

function runPhp(mode: string, input: unknown): unknown {
  const r = spawnSync('php', ['-d', 'error_reporting=E_ALL & ~E_DEPRECATED', '-r', SCRIPT, WORDPRESS_SOURCE, mode], { encoding: 'utf8', input: JSON.stringify(input), maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`php CLI and Debian's wordpress package are required: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}

export function wpKses(inputs: string[]): KsesResult {
  return runPhp('kses', inputs) as KsesResult;
}

/** WordPress's get_file_data() on each file's bytes, with `headers` (key => header name). */
export function wpFileData<K extends string>(files: Buffer[], headers: Record<K, string>): Record<K, string>[] {
  return runPhp('file_data', { files: files.map((f) => f.toString('base64')), headers }) as Record<K, string>[];
}
