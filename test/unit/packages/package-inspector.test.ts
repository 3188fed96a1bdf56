import crypto from 'node:crypto';
import { AppError } from '../../../src/lib/errors';
import { inspectPackage, PackageRejectedError, type InspectOptions } from '../../../src/services/packages/package-inspector';
import { bufferRangeReader } from '../../support/range-reader';
import { ATTACKS, type Attack } from '../../support/zip-attacks';
import { buildZip, cssWithHeaders, phpWithHeaders, zipBombEntry, type ZipEntrySpec } from '../../support/zip-builder';

const MiB = 1024 * 1024;
const pluginOpts: InspectOptions = { type: 'plugin', slug: 'my-plugin', maxUncompressedBytes: 100 * MiB, maxCompressionRatio: 100 };
const themeOpts: InspectOptions = { ...pluginOpts, type: 'theme', slug: 'my-theme' };

const mainPhp = (headers: Record<string, string> = {}): string =>
  phpWithHeaders({ 'Plugin Name': 'My Plugin', Version: '1.2.3', ...headers }, 'defined("ABSPATH") || exit;\n');

const README = `=== My Plugin ===
Contributors: alice, bob
Requires at least: 5.0
Tested up to: 6.5
Requires PHP: 7.2
Stable tag: 1.2.3

Does useful things.

== Changelog ==
= 1.2.3 =
* Fixed things.

== Upgrade Notice ==
= 1.2.3 =
Please upgrade.
`;

function plugin(extra: ZipEntrySpec[] = [], main = mainPhp()): Buffer {
  return buildZip([{ name: 'my-plugin/' }, { name: 'my-plugin/my-plugin.php', data: main }, { name: 'my-plugin/includes/x.php', data: '<?php' }, ...extra]);
}

/** Runs the inspector and returns the refusal, failing the test if the zip was accepted. */
async function refusal(zip: Buffer, opts: InspectOptions = pluginOpts): Promise<PackageRejectedError> {
  try {
    await inspectPackage(bufferRangeReader(zip), opts);
  } catch (err) {
    if (err instanceof PackageRejectedError) return err;
    throw err;
  }
  throw new Error('the package was accepted');
}

describe('inspectPackage: accepted packages', () => {
  it('reads a good plugin: headers, readme, counts', async () => {
    const zip = plugin([{ name: 'my-plugin/readme.txt', data: README }], mainPhp({ 'Plugin URI': 'https://example.com/p', Author: 'Alice', 'Requires PHP': '8.1' }));
    const info = await inspectPackage(bufferRangeReader(zip), pluginOpts);
    expect(info).toMatchObject({
      name: 'My Plugin',
      version: '1.2.3',
      uri: 'https://example.com/p',
      author: 'Alice',
      authorUri: null,
      mainFile: 'my-plugin/my-plugin.php',
      fileCount: 3,
      requiresPhp: '8.1', // the header wins over the readme's 7.2
      requires: '5.0', // no header, so the readme's value
      tested: '6.5',
    });
    expect(info.uncompressedBytes).toBe(mainPhp({ 'Plugin URI': 'https://example.com/p', Author: 'Alice', 'Requires PHP': '8.1' }).length + 5 + README.length);
    expect(info.readme?.changelog[0]).toEqual({ version: '1.2.3', body: '* Fixed things.' });
    expect(info.readme?.upgradeNotice['1.2.3']).toBe('Please upgrade.');
  });

  it('finds the plugin header in any depth-1 PHP file and reads README.TXT case-insensitively', async () => {
    const zip = buildZip([
      { name: 'my-plugin/a-helper.php', data: '<?php // no header' },
      { name: 'my-plugin/loader.php', data: mainPhp() },
      { name: 'my-plugin/sub/other.php', data: mainPhp({ 'Plugin Name': 'Deeper' }) },
      { name: 'my-plugin/README.TXT', data: '=== X ===\nTested up to: 6.4\n' },
    ]);
    const info = await inspectPackage(bufferRangeReader(zip), pluginOpts);
    expect(info).toMatchObject({ mainFile: 'my-plugin/loader.php', name: 'My Plugin', tested: '6.4', readme: { name: 'X' } });
  });

  it('reads a good theme from style.css', async () => {
    const css = cssWithHeaders({ 'Theme Name': 'My Theme', Version: '2.0-beta1', 'Requires at least': '6.0', Template: 'parent' });
    const zip = buildZip([{ name: 'my-theme/' }, { name: 'my-theme/style.css', data: css }, { name: 'my-theme/index.php', data: '<?php' }]);
    const info = await inspectPackage(bufferRangeReader(zip), themeOpts);
    expect(info).toMatchObject({ name: 'My Theme', version: '2.0-beta1', requires: '6.0', mainFile: 'my-theme/style.css', readme: null });
  });

  it('reads only a few KiB of a zip holding a 50 MB file', async () => {
    const big = crypto.randomBytes(50 * MiB);
    const reader = bufferRangeReader(buildZip([{ name: 'my-plugin/my-plugin.php', data: mainPhp() }, { name: 'my-plugin/assets/video.bin', data: big, method: 0 }]));
    const info = await inspectPackage(reader, pluginOpts);
    expect(info.version).toBe('1.2.3');
    expect(reader.bytesRead).toBeLessThan(8 * 1024);
  });

  it('ignores the __MACOSX folder that Finder adds', async () => {
    const info = await inspectPackage(bufferRangeReader(plugin([{ name: '__MACOSX/my-plugin/._my-plugin.php', data: 'x' }])), pluginOpts);
    expect(info.name).toBe('My Plugin');
  });
});

describe('inspectPackage: refusals', () => {
  it('is an AppError with status 422, code package_rejected and the reasons as message', async () => {
    const err = await refusal(buildZip([{ name: 'my-plugin-1.2/my-plugin.php', data: mainPhp() }]));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 422, code: 'package_rejected' });
    expect(err.message).toBe(err.reasons.join(' '));
  });

  it('names a wrong top folder', async () => {
    const err = await refusal(buildZip([{ name: 'my-plugin-1.2/my-plugin.php', data: mainPhp() }]));
    expect(err.reasons).toEqual([expect.stringMatching(/top folder is "my-plugin-1\.2".*slug is "my-plugin"/)]);
  });

  it('refuses two top folders and files at the root', async () => {
    const two = await refusal(plugin([{ name: 'other/x.php', data: '<?php' }]));
    expect(two.message).toMatch(/2 top-level folders \("my-plugin", "other"\)/);
    const root = await refusal(plugin([{ name: 'readme.txt', data: 'hi' }]));
    expect(root.message).toMatch(/files at its root \("readme\.txt"\)/);
  });

  it.each([
    ['an absolute path', '/etc/cron.d/evil', /absolute paths: "\/etc\/cron\.d\/evil"/],
    ['a drive letter', 'C:/Windows/evil.dll', /absolute paths: "C:\/Windows\/evil\.dll"/],
    ['a ".." segment', 'my-plugin/../../wp-config.php', /"\.\." segments: "my-plugin\/\.\.\/\.\.\/wp-config\.php"/],
    ['a backslash', 'my-plugin\\evil.php', /backslashes: "my-plugin\\evil\.php"/],
  ])('refuses %s', async (_label, name, reason) => {
    const err = await refusal(plugin([{ name, data: '<?php' }]));
    expect(err.message).toMatch(reason);
  });

  it('refuses symlinks and encrypted entries', async () => {
    expect((await refusal(plugin([{ name: 'my-plugin/link', symlinkTarget: '../../wp-config.php' }]))).message).toMatch(/symbolic links.*"my-plugin\/link"/);
    expect((await refusal(plugin([{ name: 'my-plugin/secret.php', data: 'x', flags: 0x1 }]))).message).toMatch(/encrypted.*"my-plugin\/secret\.php"/);
  });

  it('refuses a zip bomb by ratio without inflating anything', async () => {
    const reader = bufferRangeReader(plugin([zipBombEntry('my-plugin/zeros.bin', 200)]));
    const err = await inspectPackage(reader, { ...pluginOpts, maxUncompressedBytes: 500 * MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as PackageRejectedError).message).toMatch(/"my-plugin\/zeros\.bin" expands \d{3,} times.*ratio of 100/);
    expect(reader.bytesRead).toBeLessThan(8 * 1024); // tail + file list only
  });

  it('refuses a zip whose total size is over the limit', async () => {
    const err = await refusal(plugin([{ name: 'my-plugin/big.bin', data: crypto.randomBytes(2 * MiB), method: 0 }]), { ...pluginOpts, maxUncompressedBytes: MiB });
    expect(err.message).toMatch(/unpacks to 2 MB, more than the 1 MB limit/);
  });

  it('refuses a lying header that inflates beyond its declared size', async () => {
    const err = await refusal(buildZip([{ name: 'my-plugin/my-plugin.php', data: mainPhp() + ' '.repeat(20_000), declaredSize: 100 }]));
    expect(err.message).toMatch(/"my-plugin\/my-plugin\.php" unpacks to more than its declared 100 bytes/);
  });

  it('refuses a plugin without a Plugin Name header', async () => {
    const err = await refusal(buildZip([{ name: 'my-plugin/my-plugin.php', data: '<?php echo 1;' }, { name: 'my-plugin/sub/real.php', data: mainPhp() }]));
    expect(err.message).toMatch(/No PHP file directly inside "my-plugin\/" has a "Plugin Name:" header/);
  });

  it('refuses a theme without style.css or without Theme Name', async () => {
    expect((await refusal(buildZip([{ name: 'my-theme/index.php', data: '<?php' }]), themeOpts)).message).toMatch(/no "my-theme\/style\.css"/);
    const noName = buildZip([{ name: 'my-theme/style.css', data: cssWithHeaders({ Version: '1.0' }) }]);
    expect((await refusal(noName, themeOpts)).message).toMatch(/no "Theme Name:" header/);
  });

  it('refuses a missing or invalid Version header', async () => {
    const missing = await refusal(plugin([], phpWithHeaders({ 'Plugin Name': 'My Plugin' })));
    expect(missing.message).toMatch(/"my-plugin\/my-plugin\.php" has no "Version:" header/);
    const bad = await refusal(plugin([], mainPhp({ Version: '1.0 beta/2' })));
    expect(bad.message).toMatch(/version "1\.0 beta\/2".*not a valid version/);
  });

  it('reports every layout and header problem together', async () => {
    const err = await refusal(buildZip([{ name: 'wrong/wrong.php', data: phpWithHeaders({ 'Plugin Name': 'X' }) }]));
    expect(err.reasons).toEqual([expect.stringMatching(/top folder is "wrong"/), expect.stringMatching(/no "Version:" header/)]);
  });

  it('refuses what is not a zip, a truncated zip and an empty zip', async () => {
    expect((await refusal(Buffer.from('PK this is not really a zip file at all'))).message).toMatch(/not a zip archive/);
    const good = plugin();
    expect((await refusal(good.subarray(0, good.length - 30))).message).toMatch(/not a zip archive, or it was cut short/);
    expect((await refusal(buildZip([]))).message).toMatch(/empty/);
  });
});

describe('inspectPackage: what the file list alone shows', () => {
  it.each(['overlapping', 'unicodePath', 'duplicates', 'nulName', 'longName'] as Attack[])('refuses the %s attack before anything is released', async (attack) => {
    const reader = bufferRangeReader(ATTACKS[attack].build('my-plugin', '1.0'));
    const err = await inspectPackage(reader, pluginOpts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageRejectedError);
    expect((err as PackageRejectedError).message).toMatch(ATTACKS[attack].reason);
    expect(reader.bytesRead).toBeLessThan(80 * 1024); // the tail and the file list, nothing inflated
  });

  it('leaves the local-header and lying-size attacks to the deep pass (they need every byte read)', async () => {
    for (const attack of ['localName', 'lyingSize'] as Attack[]) {
      const info = await inspectPackage(bufferRangeReader(ATTACKS[attack].build('my-plugin', '1.0')), pluginOpts);
      expect(info.version).toBe('1.0');
    }
  });

  it('refuses names that are not UTF-8 and names that differ only in case', async () => {
    const latin1 = await refusal(plugin([{ name: 'my-plugin/caf\u00e9.php', rawName: Buffer.from('my-plugin/caf\xe9.php', 'latin1'), utf8: false, data: '<?php' }]));
    expect(latin1.message).toMatch(/valid UTF-8.*"my-plugin\/caf\ufffd\.php"/);
    const cased = await refusal(plugin([{ name: 'my-plugin/Includes/X.php', data: '<?php' }, { name: 'my-plugin/includes/x.php', data: '<?php' }]));
    expect(cased.message).toMatch(/differ only in upper\/lower case/);
  });

  it('checks the local header of each file it reads: a main file whose local header names another path is refused', async () => {
    const err = await refusal(buildZip([{ name: 'my-plugin/my-plugin.php', localName: '../../evil.php', data: mainPhp() }]));
    expect(err.message).toMatch(/local header of "my-plugin\/my-plugin\.php" names a different file \("\.\.\/\.\.\/evil\.php"\)/);
  });
});
