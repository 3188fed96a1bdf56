/** A release zip read by byte ranges with yauzl: the end record and file list, then single entries on demand. */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { collectStored, inflateUntil } from './bounded-inflate';
import type { RangeReader } from './range-reader';
import { ZipFormatError } from './zip-error';
import type { ExtraField } from './zip-names';

export { ZipFormatError };

export interface ZipEntry {
  /** The name as UTF-8 (invalid bytes replaced; zip-names refuses those). */
  readonly name: string;
  readonly rawName: Buffer;
  readonly isDirectory: boolean;
  readonly method: number;
  readonly flags: number;
  readonly encrypted: boolean;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  readonly extraFields: readonly ExtraField[];
  /** st_mode from the external attributes when made by Unix/OS X, else null. */
  readonly unixMode: number | null;
  readonly isSymlink: boolean;
}

export interface ReadEntryOptions {
  /** Return at most the first maxBytes bytes instead of refusing a bigger entry. */
  readonly partial?: boolean;
}

export const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;
export const MAX_ENTRIES = 100_000;
/** Most zips have a short comment, so the end record is in the last few KB. */
const TAIL_PROBE = 4096;
const EOCD_SIG = 0x06054b50;
const MAX_CHUNK = 1024 * 1024;
const METHOD_NAMES: Record<number, string> = { 1: 'Shrink', 6: 'Implode', 9: 'Deflate64', 12: 'BZIP2', 14: 'LZMA', 93: 'Zstandard', 95: 'XZ', 98: 'PPMd', 99: 'AES encryption' };

/** Failures of the object store itself (not of the zip): they stay errors, never a refusal. */
const storageFailures = new WeakSet<object>();

async function fromStorage<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err && typeof err === 'object') storageFailures.add(err);
    throw err;
  }
}

/** yauzl's messages, as sentences for the vendor. */
function explain(err: unknown, name?: string, declared?: number): Error {
  if (err instanceof ZipFormatError || !(err instanceof Error) || storageFailures.has(err)) return err as Error;
  const m = err.message;
  const who = name ? `"${name.slice(0, 150)}"` : 'An entry';
  if (/central directory record signature not found|Invalid comment length/i.test(m)) {
    return new ZipFormatError('The file is not a zip archive, or it was cut short (no end-of-central-directory record).');
  }
  if (/multi-disk/.test(m)) return new ZipFormatError('Split (multi-part) zip archives are not supported.');
  if (/strong encryption/.test(m)) return new ZipFormatError('The zip uses strong encryption, which cannot be installed.');
  if (/size mismatch for stored file/.test(m)) return new ZipFormatError("A file stored uncompressed declares two different sizes; the zip's headers are wrong.");
  if (/too many bytes/.test(m)) return new ZipFormatError(`${who} unpacks to more than its declared ${declared ?? '?'} bytes; the zip's headers are wrong (possibly a zip bomb).`);
  if (/not enough bytes/.test(m)) return new ZipFormatError(`${who} unpacks to fewer bytes than declared; the zip is damaged.`);
  if (/local file header signature/.test(m)) return new ZipFormatError(`The local header of ${who} is missing; the zip is damaged.`);
  if (/overflows file bounds/.test(m)) return new ZipFormatError(`${who} runs past the end of the file; the zip is truncated.`);
  if ((err as { code?: string }).code?.startsWith('Z_') || /invalid (block|distance|code|stored)|incorrect|unexpected end of file/i.test(m)) {
    return new ZipFormatError(`${who} has damaged compressed data.`);
  }
  // Anything else yauzl says is about the bytes it parsed.
  return new ZipFormatError(`The zip's file list is damaged or points past the end of the file (${m.slice(0, 120)}).`);
}

/** Ranged reads for yauzl, served from a few cached windows: the tail, the whole file list, the current entry's head. */
class CachedReader extends yauzl.RandomAccessReader {
  private windows: { start: number; data: Buffer }[] = [];

  constructor(readonly source: RangeReader) {
    super();
  }

  async cache(start: number, length: number): Promise<void> {
    const end = Math.min(this.source.size, start + length);
    if (end <= start || this.covered(start, end - start)) return;
    const data = await fromStorage(this.source.read(start, end - start));
    // The tail and the file list (both end at the end of the file) stay; an entry's window replaces the last one.
    const size = this.source.size;
    this.windows = this.windows.filter((w) => w.start + w.data.length === size && !(w.start >= start && end === size));
    this.windows.push({ start, data });
  }

  private covered(start: number, length: number): Buffer | null {
    for (const w of this.windows) {
      if (start >= w.start && start + length <= w.start + w.data.length) return w.data.subarray(start - w.start, start - w.start + length);
    }
    return null;
  }

  async fetch(start: number, length: number): Promise<Buffer> {
    if (start < 0 || length < 0 || start + length > this.source.size) throw new ZipFormatError("The zip's headers point past the end of the file; it is truncated or damaged.");
    const hit = this.covered(start, length);
    if (hit) return hit;
    const padded = this.paddedTail(start, length);
    if (padded) return padded;
    return fromStorage(this.source.read(start, length));
  }

  /**
   * yauzl asks for the last 64 KiB to find the end record. When the cached tail already holds the last
   * end-record signature (the one yauzl stops at) and the 20 bytes before it, the bytes in front of
   * it are never looked at: zeros stand in for them instead of a 64 KiB read.
   */
  private paddedTail(start: number, length: number): Buffer | null {
    const size = this.source.size;
    const tail = this.windows.find((w) => w.start + w.data.length === size && w.start > start);
    if (!tail || start + length !== size) return null;
    for (let i = tail.data.length - 22; i >= 0; i--) {
      if (tail.data.readUInt32LE(i) !== EOCD_SIG) continue;
      return i >= 20 ? Buffer.concat([Buffer.alloc(tail.start - start), tail.data]) : null;
    }
    return null;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    this.fetch(position, length).then(
      (data) => {
        data.copy(buffer, offset);
        callback(null, data.length);
      },
      (err: Error) => callback(err),
    );
  }

  /** Entry data in growing ranges, each fetched only when asked for: an early stop costs one small read. */
  async *chunks(start: number, end: number): AsyncGenerator<Buffer> {
    let pos = start;
    for (const w of this.windows) {
      if (pos >= w.start && pos < w.start + w.data.length) {
        const piece = w.data.subarray(pos - w.start, Math.min(end, w.start + w.data.length) - w.start);
        pos += piece.length;
        yield piece;
        break;
      }
    }
    for (let size = 16 * 1024; pos < end; size = Math.min(size * 2, MAX_CHUNK)) {
      const length = Math.min(size, end - pos);
      yield await fromStorage(this.source.read(pos, length));
      pos += length;
    }
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(this.chunks(start, end), { objectMode: false, highWaterMark: 1 });
  }
}

function toEntry(e: yauzl.Entry): ZipEntry {
  const raw = e.fileNameRaw;
  const madeByOs = e.versionMadeBy >> 8;
  const unixMode = madeByOs === 3 || madeByOs === 19 ? e.externalFileAttributes >>> 16 : null;
  return {
    name: raw.toString('utf8'),
    rawName: raw,
    isDirectory: raw.length > 0 && raw[raw.length - 1] === 0x2f,
    method: e.compressionMethod,
    flags: e.generalPurposeBitFlag,
    encrypted: (e.generalPurposeBitFlag & 0x41) !== 0, // bit 0 traditional/AES, bit 6 strong encryption
    crc32: e.crc32,
    compressedSize: e.compressedSize,
    uncompressedSize: e.uncompressedSize,
    localHeaderOffset: e.relativeOffsetOfLocalHeader,
    extraFields: e.extraFields,
    unixMode,
    isSymlink: unixMode !== null && (unixMode & 0o170000) === 0o120000,
  };
}

export class ZipArchive {
  private constructor(
    private readonly reader: CachedReader,
    private readonly zipfile: yauzl.ZipFile,
    private readonly raw: Map<ZipEntry, yauzl.Entry>,
    readonly entries: readonly ZipEntry[],
    /** Where the file list starts and ends: entries must fill [0, centralDirectoryOffset) exactly. */
    readonly centralDirectoryOffset: number,
    readonly centralDirectoryEnd: number,
  ) {}

  get size(): number {
    return this.reader.source.size;
  }

  /** Reads only the tail and the file list (one range each). */
  static async open(source: RangeReader): Promise<ZipArchive> {
    if (source.size < 22) throw new ZipFormatError('The file is too small to be a zip archive.');
    const reader = new CachedReader(source);
    await reader.cache(source.size - Math.min(source.size, TAIL_PROBE), TAIL_PROBE);
    try {
      const zipfile = await yauzl.fromRandomAccessReaderPromise(reader, source.size, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false });
      const cdOffset = zipfile.readEntryCursor as unknown as number;
      if (zipfile.entryCount > MAX_ENTRIES) throw new ZipFormatError(`The zip has ${zipfile.entryCount} entries; at most ${MAX_ENTRIES} are accepted.`);
      const listBytes = source.size - cdOffset;
      if (cdOffset > source.size || zipfile.entryCount * 46 > listBytes) throw new ZipFormatError("The zip's file list does not fit where its end record says; the file is damaged.");
      if (listBytes > MAX_CENTRAL_DIRECTORY_BYTES + 70_000) throw new ZipFormatError(`The zip's file list is ${listBytes} bytes; at most ${MAX_CENTRAL_DIRECTORY_BYTES} are accepted.`);
      await reader.cache(cdOffset, listBytes);
      const raw = new Map<ZipEntry, yauzl.Entry>();
      for await (const e of zipfile.eachEntry()) raw.set(toEntry(e), e);
      return new ZipArchive(reader, zipfile, raw, [...raw.keys()], cdOffset, zipfile.readEntryCursor as unknown as number);
    } catch (err) {
      throw explain(err);
    }
  }

  /**
   * Inflates one entry, fetching its local header and data by range. Stops once output would exceed
   * min(maxBytes, declared size) (yauzl never trusts declared sizes); checks the CRC of a whole read.
   */
  async readEntry(entry: ZipEntry, maxBytes: number, opts: ReadEntryOptions = {}): Promise<Buffer> {
    const { name } = entry;
    const e = this.raw.get(entry);
    if (!e) throw new Error('entry of another archive');
    if (entry.encrypted) throw new ZipFormatError(`"${name}" is encrypted; encrypted zips are not supported.`);
    if (entry.method !== 0 && entry.method !== 8) {
      throw new ZipFormatError(`"${name}" uses the ${METHOD_NAMES[entry.method] ?? `#${entry.method}`} compression method, which is not supported (use Deflate or Store).`);
    }
    const declared = entry.uncompressedSize;
    if (!opts.partial && declared > maxBytes) throw new ZipFormatError(`"${name}" is ${declared} bytes, more than the ${maxBytes} bytes that may be read.`);
    const whole = declared <= maxBytes;
    // Honest deflate data is barely larger than its output, so a bigger first range would only feed a liar.
    const first = Math.min(entry.compressedSize, entry.method === 0 ? Math.min(declared, maxBytes) : whole ? Math.min(64 * 1024, declared + 1024) : Math.max(4096, Math.min(64 * 1024, Math.ceil(maxBytes / 2))));
    await this.reader.cache(entry.localHeaderOffset, 30 + entry.rawName.length + 128 + first);
    // Stop one byte past the declared size to catch a lying header, or at maxBytes for a prefix read.
    const stopAt = whole ? declared + 1 : maxBytes;
    let result: { data: Buffer; ended: boolean };
    try {
      // yauzl finds the data (and checks the local header's bounds); reading is paced here, so a liar costs one small range.
      const local = await this.zipfile.readLocalFileHeaderPromise(e);
      if (!local.fileName.equals(entry.rawName)) {
        throw new ZipFormatError(`The local header of "${name}" names a different file ("${local.fileName.toString('utf8').slice(0, 150)}"); the zip is damaged or crafted.`);
      }
      const chunks = this.reader.chunks(local.fileDataStart, local.fileDataStart + entry.compressedSize);
      result = entry.method === 0 ? await collectStored(chunks, stopAt) : await inflateUntil(chunks, stopAt, name);
    } catch (err) {
      throw explain(err, name, declared);
    }
    const { data, ended } = result;
    if (data.length > declared) throw new ZipFormatError(`"${name}" unpacks to more than its declared ${declared} bytes; the zip's headers are wrong (possibly a zip bomb).`);
    if (!whole) return data;
    if (!ended || data.length < declared) throw new ZipFormatError(`"${name}" unpacks to fewer bytes than declared; the zip is damaged.`);
    if (zlib.crc32(data) !== entry.crc32) throw new ZipFormatError(`"${name}" fails its CRC check; the zip is damaged.`);
    return data;
  }
}

export function openZip(reader: RangeReader): Promise<ZipArchive> {
  return ZipArchive.open(reader);
}
