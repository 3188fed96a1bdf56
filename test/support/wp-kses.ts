import { spawnSync } from 'node:child_process';
import { WORDPRESS_SOURCE } from './wordpress';

/**
 * WordPress's own wp_kses (Debian's package, loaded without a database) with the `$plugins_allowedtags`
 * array read out of wp-admin/includes/plugin-install.php: what the "View details" modal does to sections.
 * Fails loudly when PHP or WordPress is missing.
 */
const SCRIPT = String.raw`
define('ABSPATH', $argv[1] . '/');
define('WPINC', 'wp-includes');
require ABSPATH . WPINC . '/plugin.php';
require ABSPATH . WPINC . '/formatting.php';
require ABSPATH . WPINC . '/functions.php';
require ABSPATH . WPINC . '/kses.php';
$source = file_get_contents(ABSPATH . 'wp-admin/includes/plugin-install.php');
if (!preg_match('/\$plugins_allowedtags\s*=\s*(array\(.*?\n\t\));/s', $source, $m)) { fwrite(STDERR, "no \$plugins_allowedtags\n"); exit(2); }
$allowed = eval('return ' . $m[1] . ';');
$inputs = json_decode(stream_get_contents(STDIN), true);
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

export function wpKses(inputs: string[]): KsesResult {
  const r = spawnSync('php', ['-d', 'error_reporting=E_ALL & ~E_DEPRECATED', '-r', SCRIPT, WORDPRESS_SOURCE], { encoding: 'utf8', input: JSON.stringify(inputs), maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`php CLI and Debian's wordpress package are required: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout) as KsesResult;
}
