/** Hostile release zips, each otherwise a valid plugin, so that the attack is the only thing wrong with it. */
import { buildZip, phpWithHeaders, unicodePathExtra, zipBombEntry, type BuildOptions, type ZipEntrySpec } from './zip-builder';

export type Attack = 'overlapping' | 'unicodePath' | 'localName' | 'lyingSize' | 'duplicates' | 'nulName' | 'longName';

function plugin(slug: string, version: string, extra: ZipEntrySpec[], opts: BuildOptions = {}): Buffer {
  return buildZip(
    [
      { name: `${slug}/` },
      { name: `${slug}/${slug}.php`, data: phpWithHeaders({ 'Plugin Name': 'Attack', Version: version }, "defined('ABSPATH') || exit;\n") },
      { name: `${slug}/includes/helper.php`, data: '<?php // helper' },
      ...extra,
    ],
    opts,
  );
}

/** Each zip, and a pattern its refusal reason must match. */
export const ATTACKS: Record<Attack, { build: (slug: string, version: string) => Buffer; reason: RegExp }> = {
  // 40 file-list entries all pointing at one 10 MB deflate kernel: ~12 KB that a lenient unzip inflates to 410 MB.
  overlapping: {
    build: (slug, v) =>
      plugin(slug, v, [zipBombEntry(`${slug}/assets/kernel.bin`, 10)], {
        aliases: Array.from({ length: 40 }, (_, i) => ({ name: `${slug}/assets/copy-${i}.bin`, of: `${slug}/assets/kernel.bin` })),
      }),
    reason: /overlap/i,
  },
  unicodePath: {
    build: (slug, v) => plugin(slug, v, [{ name: `${slug}/safe.php`, data: '<?php // safe', extra: [unicodePathExtra(`${slug}/safe.php`, '../../evil2.php')] }]),
    reason: /second.*name.*"\.\.\/\.\.\/evil2\.php"/i,
  },
  localName: {
    build: (slug, v) => plugin(slug, v, [{ name: `${slug}/includes/safe.php`, localName: '../../evil.php', data: '<?php system($_GET["c"]);' }]),
    reason: /local header of ".*safe\.php" names a different file, "\.\.\/\.\.\/evil\.php"/,
  },
  lyingSize: {
    build: (slug, v) => plugin(slug, v, [zipBombEntry(`${slug}/assets/data.bin`, 52, { declaredSize: 1024 })]),
    reason: /"[^"]*data\.bin" unpacks to more than its declared 1024 bytes/,
  },
  duplicates: {
    build: (slug, v) => plugin(slug, v, [{ name: `${slug}/includes/helper.php`, data: '<?php // the other helper' }]),
    reason: /more than once.*helper\.php/,
  },
  nulName: {
    build: (slug, v) => plugin(slug, v, [{ name: `${slug}/evil\u0000.php`, data: '<?php' }]),
    reason: /NUL or other control characters.*"[^"]*evil\?\.php"/,
  },
  longName: {
    build: (slug, v) => plugin(slug, v, [{ name: `${slug}/${'a'.repeat(65_000 - slug.length - 1)}`, data: 'x' }]),
    reason: /at most 255 bytes/,
  },
};
