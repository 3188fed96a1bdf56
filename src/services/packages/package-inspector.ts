/** Decides whether an uploaded release zip is a safe, installable plugin/theme, reading only the ranges it needs. */
import { AppError } from '../../lib/errors';
import { isValidVersion } from '../../lib/version-compare';
import type { RangeReader } from './range-reader';
import { parseReadme, type ReadmeInfo } from './readme';
import { HEADER_BYTES, parsePluginHeaders, parseThemeHeaders } from './wp-headers';
import { ZipArchive, ZipFormatError, type ZipEntry } from './zip-archive';
import { examples, fileListReasons, quote } from './zip-checks';

/** The zip is refused; `reasons` are sentences for the vendor. */
export class PackageRejectedError extends AppError {
  readonly reasons: string[];

  constructor(reasons: string[]) {
    super(422, 'package_rejected', reasons.join(' '));
    this.reasons = reasons;
  }
}

export interface InspectOptions {
  type: 'plugin' | 'theme';
  slug: string;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
}

export interface PackageInfo {
  version: string;
  name: string;
  uri: string | null;
  description: string | null;
  author: string | null;
  authorUri: string | null;
  requires: string | null;
  tested: string | null;
  requiresPhp: string | null;
  /** Path inside the zip, e.g. "my-plugin/my-plugin.php" (the plugin basename) or "my-theme/style.css". */
  mainFile: string;
  fileCount: number;
  uncompressedBytes: number;
  readme: ReadmeInfo | null;
  /** CHANGELOG.md / changelog.txt at the top of the folder, read only when readme.txt has no changelog entries. */
  changelogFile: { name: string; text: string } | null;
  /** The archive as read (file list kept), for the verification pass that follows. */
  archive: ZipArchive;
}

export const README_MAX_BYTES = 512 * 1024;
/** Small files of repeated text compress enormously but harmlessly, so ratios count only above this. */
export const RATIO_MIN_BYTES = 1024 * 1024;
const MAX_HEADER_CANDIDATES = 100;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KB`;
  return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

/** Dangers found from the file list alone: nothing is inflated when any of these exist. */
function safetyReasons(zip: ZipArchive, opts: InspectOptions): string[] {
  const { entries } = zip;
  const reasons: string[] = fileListReasons(entries, zip.centralDirectoryOffset);
  const names = (pred: (e: ZipEntry) => boolean): string[] => entries.filter(pred).map((e) => e.name);
  const check = (found: string[], sentence: (list: string) => string): void => {
    if (found.length > 0) reasons.push(sentence(examples(found)));
  };
  check(names((e) => e.isSymlink), (l) => `The zip contains symbolic links, which are not allowed: ${l}.`);
  check(names((e) => e.encrypted), (l) => `The zip contains encrypted files, which cannot be installed: ${l}.`);
  check(
    names((e) => !e.encrypted && e.method !== 0 && e.method !== 8),
    (l) => `Some files use a compression method other than Deflate or Store, which WordPress may not unpack: ${l}.`,
  );

  const total = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  const totalCompressed = entries.reduce((sum, e) => sum + e.compressedSize, 0);
  if (total > opts.maxUncompressedBytes) {
    reasons.push(`The zip unpacks to ${formatBytes(total)}, more than the ${formatBytes(opts.maxUncompressedBytes)} limit.`);
  }
  const ratio = (u: number, c: number): number => u / Math.max(c, 1);
  const bombs = entries.filter((e) => e.uncompressedSize > RATIO_MIN_BYTES && ratio(e.uncompressedSize, e.compressedSize) > opts.maxCompressionRatio);
  for (const e of bombs.slice(0, 3)) {
    reasons.push(
      `"${e.name}" expands ${Math.round(ratio(e.uncompressedSize, e.compressedSize))} times (${formatBytes(e.compressedSize)} to ${formatBytes(e.uncompressedSize)}), ` +
        `beyond the allowed ratio of ${opts.maxCompressionRatio}; this looks like a zip bomb.`,
    );
  }
  if (bombs.length === 0 && total > RATIO_MIN_BYTES && ratio(total, totalCompressed) > opts.maxCompressionRatio) {
    reasons.push(
      `The zip as a whole expands ${Math.round(ratio(total, totalCompressed))} times (${formatBytes(totalCompressed)} to ${formatBytes(total)}), ` +
        `beyond the allowed ratio of ${opts.maxCompressionRatio}; this looks like a zip bomb.`,
    );
  }
  return reasons;
}

/** WordPress installs the zip's single top folder as the plugin/theme directory, so it must be the slug. */
function layout(entries: readonly ZipEntry[], slug: string): { top: string | null; reasons: string[] } {
  // WordPress's unzip_file() skips macOS resource forks, so they do not count as a second folder.
  const relevant = entries.filter((e) => !e.name.startsWith('__MACOSX/'));
  if (relevant.length === 0) return { top: null, reasons: ['The zip is empty.'] };
  const reasons: string[] = [];
  const rootFiles = relevant.filter((e) => !e.name.includes('/')).map((e) => e.name);
  const tops = [...new Set(relevant.filter((e) => e.name.includes('/')).map((e) => e.name.split('/')[0]!))];
  if (rootFiles.length > 0) {
    reasons.push(`The zip has files at its root (${examples(rootFiles)}); everything must be inside one folder named "${slug}".`);
  }
  if (tops.length > 1) {
    reasons.push(`The zip has ${tops.length} top-level folders (${examples(tops)}) but must have exactly one, named "${slug}".`);
    return { top: tops.includes(slug) ? slug : null, reasons };
  }
  const top = tops[0] ?? null;
  if (top !== null && top !== slug) reasons.push(`The zip's top folder is ${quote(top)} but the product slug is "${slug}".`);
  return { top, reasons };
}

interface MainFile {
  path: string;
  headers: { name: string; uri: string; version: string; description: string; author: string; authorUri: string; requiresWp: string; testedUpTo: string; requiresPhp: string };
}

async function findPluginMain(zip: ZipArchive, top: string): Promise<MainFile | string> {
  const preferred = `${top}/${top}.php`;
  const candidates = zip.entries
    .filter((e) => !e.isDirectory && e.name.startsWith(`${top}/`) && e.name.endsWith('.php') && !e.name.slice(top.length + 1).includes('/'))
    .sort((a, b) => Number(b.name === preferred) - Number(a.name === preferred) || (a.name < b.name ? -1 : 1))
    .slice(0, MAX_HEADER_CANDIDATES);
  for (const entry of candidates) {
    // Like get_file_data(): only the first 8 KiB matter, so only that much is inflated.
    const h = parsePluginHeaders(await zip.readEntry(entry, HEADER_BYTES, { partial: true }));
    if (h.name !== '') return { path: entry.name, headers: { ...h, uri: h.pluginUri } };
  }
  return `No PHP file directly inside "${top}/" has a "Plugin Name:" header, so WordPress would not recognise it as a plugin.`;
}

async function findThemeMain(zip: ZipArchive, top: string): Promise<MainFile | string> {
  const path = `${top}/style.css`;
  const entry = zip.entries.find((e) => e.name === path);
  if (!entry) return `The theme has no "${path}" file, which WordPress requires.`;
  const h = parseThemeHeaders(await zip.readEntry(entry, HEADER_BYTES, { partial: true }));
  if (h.name === '') return `"${path}" has no "Theme Name:" header, so WordPress would not recognise it as a theme.`;
  return { path, headers: { ...h, uri: h.themeUri } };
}

async function readReadme(zip: ZipArchive, top: string): Promise<ReadmeInfo | null> {
  const wanted = `${top}/readme.txt`;
  const matches = zip.entries.filter((e) => !e.isDirectory && e.name.toLowerCase() === wanted.toLowerCase());
  const entry = matches.find((e) => e.name === wanted) ?? matches[0];
  if (!entry) return null;
  return parseReadme((await zip.readEntry(entry, README_MAX_BYTES, { partial: true })).toString('utf8'));
}

const CHANGELOG_FILES = ['changelog.md', 'changelog.txt'];

async function readChangelogFile(zip: ZipArchive, top: string): Promise<{ name: string; text: string } | null> {
  for (const wanted of CHANGELOG_FILES) {
    const entry = zip.entries.find((e) => !e.isDirectory && e.name.toLowerCase() === `${top}/${wanted}`.toLowerCase());
    if (entry) return { name: entry.name, text: (await zip.readEntry(entry, README_MAX_BYTES, { partial: true })).toString('utf8') };
  }
  return null;
}

const orNull = (s: string | null | undefined): string | null => (s ? s : null);

/** Inspects a release zip; throws PackageRejectedError with every reason it found. */
export async function inspectPackage(reader: RangeReader, opts: InspectOptions): Promise<PackageInfo> {
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(reader);
  } catch (err) {
    if (err instanceof ZipFormatError) throw new PackageRejectedError([err.message]);
    throw err;
  }
  const safety = safetyReasons(zip, opts);
  if (safety.length > 0) throw new PackageRejectedError(safety);
  const { top, reasons } = layout(zip.entries, opts.slug);
  if (top === null) throw new PackageRejectedError(reasons);

  let main: MainFile | string;
  let readme: ReadmeInfo | null = null;
  let changelogFile: { name: string; text: string } | null = null;
  try {
    main = opts.type === 'plugin' ? await findPluginMain(zip, top) : await findThemeMain(zip, top);
    readme = await readReadme(zip, top);
    if (!readme || readme.changelog.length === 0) changelogFile = await readChangelogFile(zip, top);
  } catch (err) {
    // A damaged or lying entry: report it alongside anything else found.
    if (err instanceof ZipFormatError) throw new PackageRejectedError([...reasons, err.message]);
    throw err;
  }
  if (typeof main === 'string') throw new PackageRejectedError([...reasons, main]);

  const { headers, path } = main;
  if (headers.version === '') {
    reasons.push(`"${path}" has no "Version:" header.`);
  } else if (!isValidVersion(headers.version)) {
    reasons.push(`The version "${headers.version}" in "${path}" is not a valid version number (use digits and dots, like 1.2.3 or 2.0-beta1).`);
  }
  if (reasons.length > 0) throw new PackageRejectedError(reasons);

  return {
    version: headers.version,
    name: headers.name,
    uri: orNull(headers.uri),
    description: orNull(headers.description),
    author: orNull(headers.author),
    authorUri: orNull(headers.authorUri),
    // WordPress 5.8+ reads requirements from the main file header first, the readme second.
    requires: orNull(headers.requiresWp) ?? orNull(readme?.requires),
    tested: orNull(headers.testedUpTo) ?? orNull(readme?.tested),
    requiresPhp: orNull(headers.requiresPhp) ?? orNull(readme?.requiresPhp),
    mainFile: path,
    fileCount: zip.entries.filter((e) => !e.isDirectory).length,
    uncompressedBytes: zip.entries.reduce((sum, e) => sum + e.uncompressedSize, 0),
    readme,
    changelogFile,
    archive: zip,
  };
}
