/** Reads a zip by byte ranges: the EOCD from the tail, then the central directory, then single entries on demand. */
import zlib from 'node:zlib';
import type { RangeReader } from './range-reader';

/** The bytes are not a zip we can read safely; the message is a sentence a vendor can act on. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntry {
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
  readonly externalAttributes: number;
  /** High byte of "version made by": 0 = MS-DOS, 3 = Unix, 19 = OS X. */
  readonly madeByOs: number;
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

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const FIRST_TAIL_READ = 4096; // most zips have a short comment, so a small tail read finds the EOCD
const MAX_CHUNK = 1024 * 1024;
const STORED = 0;
const DEFLATED = 8;
const METHOD_NAMES: Record<number, string> = { 1: 'Shrink', 6: 'Implode', 9: 'Deflate64', 12: 'BZIP2', 14: 'LZMA', 93: 'Zstandard', 95: 'XZ', 98: 'PPMd', 99: 'AES encryption' };

// Code page 437, the zip default when the UTF-8 flag is unset (0x80-0xFF; lower half is ASCII).
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function decodeCp437(raw: Buffer): string {
  let s = '';
  for (const b of raw) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

function u64(buf: Buffer, at: number, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`The zip's ${what} is impossibly large; the file is damaged.`);
  return Number(v);
}

async function readExact(reader: RangeReader, offset: number, length: number, what: string): Promise<Buffer> {
  if (offset < 0 || offset + length > reader.size) {
    throw new ZipFormatError(`The zip's ${what} points past the end of the file; it is truncated or damaged.`);
  }
  const buf = await reader.read(offset, length);
  if (buf.length !== length) throw new ZipFormatError(`Reading the zip's ${what} came back short; the file is truncated.`);
  return buf;
}

/** Position of a real EOCD in `tail`: its comment must end exactly at the end of the file. */
function findEocd(tail: Buffer): number {
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) return i;
  }
  return -1;
}

export class ZipArchive {
  private constructor(
    private readonly reader: RangeReader,
    readonly entries: readonly ZipEntry[],
    readonly comment: string,
    readonly zip64: boolean,
  ) {}

  /** Reads only the tail and the central directory. */
  static async open(reader: RangeReader): Promise<ZipArchive> {
    if (reader.size < EOCD_SIZE) throw new ZipFormatError('The file is too small to be a zip archive.');
    let tailStart = reader.size - Math.min(reader.size, FIRST_TAIL_READ);
    let tail = await readExact(reader, tailStart, reader.size - tailStart, 'end');
    let at = findEocd(tail);
    const widest = reader.size - Math.min(reader.size, EOCD_SIZE + MAX_COMMENT);
    if (at < 0 && tailStart > widest) {
      // A long comment: fetch only the rest of the 64 KiB window.
      tail = Buffer.concat([await readExact(reader, widest, tailStart - widest, 'end'), tail]);
      tailStart = widest;
      at = findEocd(tail);
    }
    if (at < 0) throw new ZipFormatError('The file is not a zip archive, or it was cut short (no end-of-central-directory record).');
    const fetch = (offset: number, length: number, what: string): Promise<Buffer> =>
      offset >= tailStart && offset + length <= reader.size
        ? Promise.resolve(tail.subarray(offset - tailStart, offset - tailStart + length))
        : readExact(reader, offset, length, what);

    const eocdOffset = tailStart + at;
    const eocd = tail.subarray(at);
    if (eocd.readUInt16LE(4) !== 0 || eocd.readUInt16LE(6) !== 0 || eocd.readUInt16LE(8) !== eocd.readUInt16LE(10)) {
      throw new ZipFormatError('Split (multi-part) zip archives are not supported.');
    }
    let count = eocd.readUInt16LE(10);
    let cdSize = eocd.readUInt32LE(12);
    let cdOffset = eocd.readUInt32LE(16);
    let cdLimit = eocdOffset;
    const comment = decodeCp437(eocd.subarray(EOCD_SIZE));
    let zip64 = false;
    if (eocdOffset >= 20) {
      const locator = await fetch(eocdOffset - 20, 20, 'ZIP64 locator');
      if (locator.readUInt32LE(0) === ZIP64_LOCATOR_SIG) {
        zip64 = true;
        const recordOffset = u64(locator, 8, 'ZIP64 record offset');
        const record = await fetch(recordOffset, 56, 'ZIP64 end record');
        if (record.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw new ZipFormatError('The ZIP64 end record is missing; the zip is damaged.');
        if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0) throw new ZipFormatError('Split (multi-part) zip archives are not supported.');
        count = u64(record, 32, 'entry count');
        cdSize = u64(record, 40, 'central directory size');
        cdOffset = u64(record, 48, 'central directory offset');
        cdLimit = recordOffset;
      }
    }
    if (count > MAX_ENTRIES) throw new ZipFormatError(`The zip has ${count} entries; at most ${MAX_ENTRIES} are accepted.`);
    if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
      throw new ZipFormatError(`The zip's file list is ${cdSize} bytes; at most ${MAX_CENTRAL_DIRECTORY_BYTES} are accepted.`);
    }
    if (cdOffset + cdSize > cdLimit || count * 46 > cdSize) {
      throw new ZipFormatError("The zip's file list does not fit where its end record says; the file is damaged.");
    }
    const cd = await fetch(cdOffset, cdSize, 'file list');
    return new ZipArchive(reader, parseCentralDirectory(cd, count), comment, zip64);
  }

  /**
   * Inflates one entry, fetching its local header and data by range. Throws once output would exceed
   * min(maxBytes, declared size) (declared sizes are never trusted); verifies the CRC when it read everything.
   */
  async readEntry(entry: ZipEntry, maxBytes: number, opts: ReadEntryOptions = {}): Promise<Buffer> {
    const { name } = entry;
    if (entry.encrypted) throw new ZipFormatError(`"${name}" is encrypted; encrypted zips are not supported.`);
    if (entry.method !== STORED && entry.method !== DEFLATED) {
      const method = METHOD_NAMES[entry.method] ?? `#${entry.method}`;
      throw new ZipFormatError(`"${name}" uses the ${method} compression method, which is not supported (use Deflate or Store).`);
    }
    const declared = entry.uncompressedSize;
    if (!opts.partial && declared > maxBytes) {
      throw new ZipFormatError(`"${name}" is ${declared} bytes, more than the ${maxBytes} bytes that may be read.`);
    }
    if (entry.method === STORED && entry.compressedSize !== declared) {
      throw new ZipFormatError(`"${name}" is stored uncompressed but its two declared sizes differ; the zip's headers are wrong.`);
    }
    const whole = declared <= maxBytes;
    // Stop one byte past the declared size to catch a lying header, or at maxBytes for a prefix read.
    const stopAt = whole ? declared + 1 : maxBytes;
    // Honest deflate data is barely larger than its output, so a bigger first range would only feed a liar.
    const firstChunk = Math.min(
      entry.compressedSize,
      entry.method === STORED ? stopAt : whole ? Math.min(64 * 1024, declared + 1024) : Math.max(4096, Math.min(64 * 1024, Math.ceil(maxBytes / 2))),
    );

    const reader = this.reader;
    const headLength = Math.min(reader.size - entry.localHeaderOffset, 30 + entry.rawName.length + 64 + firstChunk);
    const head = await readExact(reader, entry.localHeaderOffset, Math.max(0, headLength), `entry "${name}"`);
    if (head.length < 30 || head.readUInt32LE(0) !== LOCAL_SIG) throw new ZipFormatError(`The local header of "${name}" is missing; the zip is damaged.`);
    const nameLength = head.readUInt16LE(26);
    const dataStart = entry.localHeaderOffset + 30 + nameLength + head.readUInt16LE(28);
    if (nameLength !== entry.rawName.length || (30 + nameLength <= head.length && !head.subarray(30, 30 + nameLength).equals(entry.rawName))) {
      throw new ZipFormatError(`The local header of "${name}" names a different file than the zip's file list; the zip is damaged or crafted.`);
    }
    if (dataStart + entry.compressedSize > reader.size) throw new ZipFormatError(`"${name}" runs past the end of the file; the zip is truncated.`);
    const preloaded = head.subarray(Math.min(head.length, dataStart - entry.localHeaderOffset)).subarray(0, entry.compressedSize);

    // Compressed data in growing ranges, so a bomb or an early stop costs one small read.
    async function* compressed(): AsyncGenerator<Buffer> {
      let pos = preloaded.length;
      if (pos > 0) yield preloaded;
      for (let size = Math.max(firstChunk, 16 * 1024); pos < entry.compressedSize; size = Math.min(size * 2, MAX_CHUNK)) {
        const length = Math.min(size, entry.compressedSize - pos);
        yield await readExact(reader, dataStart + pos, length, `entry "${name}"`);
        pos += length;
      }
    }

    const { data, ended } = entry.method === STORED ? await collectStored(compressed(), stopAt) : await inflateUntil(compressed(), stopAt, name);
    if (data.length > declared) {
      throw new ZipFormatError(`"${name}" unpacks to more than its declared ${declared} bytes; the zip's headers are wrong (possibly a zip bomb).`);
    }
    if (!whole) return data;
    if (!ended || data.length < declared) throw new ZipFormatError(`"${name}" unpacks to fewer bytes than declared; the zip is damaged.`);
    if (zlib.crc32(data) !== entry.crc32) throw new ZipFormatError(`"${name}" fails its CRC check; the zip is damaged.`);
    return data;
  }
}

/** Convenience for callers that only need the archive object. */
export function openZip(reader: RangeReader): Promise<ZipArchive> {
  return ZipArchive.open(reader);
}

function parseCentralDirectory(cd: Buffer, count: number): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) throw new ZipFormatError("The zip's file list is damaged.");
    const madeBy = cd.readUInt16LE(p + 4);
    const flags = cd.readUInt16LE(p + 8);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > cd.length) throw new ZipFormatError("The zip's file list is damaged.");
    const rawName = cd.subarray(p + 46, p + 46 + nameLength);
    const extra = cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    let compressedSize = cd.readUInt32LE(p + 20);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    let name = flags & 0x800 ? rawName.toString('utf8') : decodeCp437(rawName);
    for (let x = 0; x + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(x);
      const size = extra.readUInt16LE(x + 2);
      const body = extra.subarray(x + 4, x + 4 + size);
      if (id === 0x0001) {
        // ZIP64: only the fields saturated in the fixed header are present, in this order.
        let q = 0;
        const next = (what: string): number => {
          if (q + 8 > body.length) throw new ZipFormatError("A ZIP64 field in the zip's file list is truncated.");
          q += 8;
          return u64(body, q - 8, what);
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = next('entry size');
        if (compressedSize === 0xffffffff) compressedSize = next('entry size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('entry offset');
      } else if (id === 0x7075 && body.length > 5 && body[0] === 1 && body.readUInt32LE(1) === zlib.crc32(rawName)) {
        name = body.subarray(5).toString('utf8'); // Info-ZIP Unicode Path, valid only while it matches the header name
      }
      x += 4 + size;
    }
    const externalAttributes = cd.readUInt32LE(p + 38);
    const madeByOs = madeBy >> 8;
    const unixMode = madeByOs === 3 || madeByOs === 19 ? externalAttributes >>> 16 : null;
    entries.push({
      name,
      rawName,
      isDirectory: name.endsWith('/'),
      method: cd.readUInt16LE(p + 10),
      flags,
      encrypted: (flags & 0x41) !== 0, // bit 0 traditional/AES, bit 6 strong encryption
      crc32: cd.readUInt32LE(p + 16),
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      externalAttributes,
      madeByOs,
      unixMode,
      isSymlink: unixMode !== null && (unixMode & 0o170000) === 0o120000,
    });
    p = end;
  }
  return entries;
}

async function collectStored(source: AsyncIterable<Buffer>, stopAt: number): Promise<{ data: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    total += chunk.length;
    if (total >= stopAt) return { data: Buffer.concat(parts).subarray(0, stopAt), ended: false };
  }
  return { data: Buffer.concat(parts), ended: true };
}

/** Inflates until the deflate stream ends or output reaches stopAt bytes, pacing range reads to the inflater. */
function inflateUntil(source: AsyncIterable<Buffer>, stopAt: number, name: string): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const inflater = zlib.createInflateRaw();
    const parts: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      inflater.destroy();
      fn();
    };
    const done = (ended: boolean): void => settle(() => resolve({ data: Buffer.concat(parts), ended }));
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return;
      parts.push(chunk.subarray(0, stopAt - total));
      total += chunk.length;
      if (total >= stopAt) done(false);
    });
    inflater.on('end', () => done(true));
    inflater.on('error', () => settle(() => reject(new ZipFormatError(`"${name}" has damaged compressed data.`))));
    const write = (chunk: Buffer): Promise<void> =>
      new Promise((res) => {
        inflater.once('close', res);
        inflater.write(chunk, () => {
          inflater.off('close', res);
          res();
        });
      });
    (async () => {
      // Pull the next range only once the previous one is inflated and more output is still wanted.
      const chunks = source[Symbol.asyncIterator]();
      while (!settled) {
        const next = await chunks.next();
        if (next.done) {
          if (!settled) inflater.end();
          return;
        }
        if (!settled) await write(next.value);
      }
      await chunks.return?.();
    })().catch((err: unknown) => settle(() => reject(err)));
  });
}
