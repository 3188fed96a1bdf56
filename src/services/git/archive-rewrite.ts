import { Transform, type Readable } from 'node:stream';
import ignore from 'ignore';
import yauzl from 'yauzl';
import yazl from 'yazl';

/** Why an archive cannot become a release zip (shown as the build's failure reason). */
export class ArchiveError extends Error {}

/** Passes at most `max` bytes through; one more fails the stream with an ArchiveError (a provider archive is untrusted). */
export function capBytes(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) return done(new ArchiveError(`The repository's archive is larger than ${max} bytes, the largest release Wharf accepts.`));
      done(null, chunk);
    },
  });
}

export interface RewriteResult {
  /** The release zip as a stream (yazl writes it as it reads the entries, one at a time). */
  output: Readable;
  kept: number;
  dropped: string[];
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))),
  );
}

function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(out));
    zip.once('error', reject);
    zip.readEntry();
  });
}

function readSmall(zip: yauzl.ZipFile, entry: yauzl.Entry, max = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > max) return reject(new ArchiveError(`.distignore is larger than ${max} bytes`));
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      stream.on('error', reject);
    });
  });
}

/** `.git`, `.github`, `.gitignore`, `.gitattributes`, `.gitmodules`… at any depth. */
const isGitPath = (rel: string) => rel.split('/').some((seg) => seg.startsWith('.git'));

/**
 * Rewrites a provider's archive (`owner-repo-sha/…`) into `<slug>/…`, leaving out what the top-level
 * `.distignore` names (gitignore syntax, as `wp dist-archive` reads it: the `ignore` package) and
 * every `.git*` path. Reads the local file with yauzl and writes with yazl, entry by entry: memory
 * stays constant whatever the archive's size. Call `close()` after the output has been consumed.
 */
export async function rewriteArchive(file: string, slug: string): Promise<RewriteResult & { close(): void }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    throw new ArchiveError(`The archive could not be read as a zip (${(err as Error).message}).`);
  }
  try {
    const entries = await listEntries(zip);
    const tops = new Set(entries.map((e) => e.fileName.split('/')[0]));
    if (entries.length === 0 || tops.size !== 1 || !entries.every((e) => e.fileName.includes('/') || e.fileName.endsWith('/'))) {
      throw new ArchiveError('The archive does not have the single top folder a provider archive has.');
    }
    const top = [...tops][0]! + '/';
    const distignoreEntry = entries.find((e) => e.fileName === `${top}.distignore`);
    const rules = ignore().add(distignoreEntry ? await readSmall(zip, distignoreEntry) : '');
    const out = new yazl.ZipFile();
    const dropped: string[] = [];
    let kept = 0;
    out.addEmptyDirectory(`${slug}/`, { mtime: entries[0]!.getLastModDate() });
    for (const entry of entries) {
      const rel = entry.fileName.slice(top.length);
      if (!rel) continue;
      const isDir = rel.endsWith('/');
      if (rel === '.distignore' || isGitPath(rel) || rules.ignores(rel)) {
        dropped.push(rel);
        continue;
      }
      const mtime = entry.getLastModDate();
      if (isDir) {
        out.addEmptyDirectory(`${slug}/${rel}`, { mtime });
        continue;
      }
      kept++;
      out.addReadStreamLazy(`${slug}/${rel}`, { mtime, mode: 0o100644 }, (cb) => zip.openReadStream(entry, (err, stream) => cb(err, stream)));
    }
    out.end();
    return { output: out.outputStream as Readable, kept, dropped, close: () => zip.close() };
  } catch (err) {
    zip.close();
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`The archive could not be read as a zip (${(err as Error).message}).`);
  }
}
