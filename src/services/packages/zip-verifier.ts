/**
 * The deep verification pass: the whole zip as one stream, checked against the file list yauzl read.
 * Every byte before the file list must belong to exactly one entry, each local header must repeat its
 * file-list entry, and every entry must inflate to exactly its declared size and CRC-32. Constant
 * memory: chunks are looked at and let go (they may live in a reused buffer).
 */
import { finished } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { ZipEntry } from './zip-archive';
import { examples, quote } from './zip-checks';
import { hiddenUnicodeName, NAME_PROBLEM_TEXT, nameProblems, parseExtraFields } from './zip-names';

/** The zip is refused; the message is a sentence for the vendor. */
export class ZipVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipVerificationError';
  }
}

const LOCAL_SIG = 0x04034b50;
const DESCRIPTOR_SIG = 0x08074b50;
/** Entries this small are inflated in one synchronous call; bigger ones through a stream. */
const SMALL_ENTRY = 1024 * 1024;

type State = 'header' | 'names' | 'data' | 'descriptor' | 'tail';

export class ZipStreamVerifier {
  private readonly sorted: ZipEntry[];
  private pos = 0;
  private index = 0;
  private state: State = 'header';
  /** Bytes of the current header or descriptor (copied: chunks do not outlive a call). */
  private held = Buffer.alloc(0);
  private need = 30;
  private entry: ZipEntry | null = null;
  private zip64Local = false;
  private data: EntryData | null = null;
  private readonly names = new Set<string>();

  constructor(
    entries: readonly ZipEntry[],
    private readonly centralDirectoryOffset: number,
  ) {
    this.sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
    this.startEntry();
  }

  get bytesSeen(): number {
    return this.pos;
  }

  async write(chunk: Buffer): Promise<void> {
    let p = 0;
    while (p < chunk.length) {
      if (this.state === 'tail') {
        this.pos += chunk.length - p;
        return;
      }
      if (this.state === 'data') {
        const n = Math.min(chunk.length - p, this.data!.remaining);
        await this.data!.write(chunk.subarray(p, p + n));
        p += n;
        this.pos += n;
        if (this.data!.remaining === 0) await this.endData();
        continue;
      }
      const n = Math.min(chunk.length - p, this.need - this.held.length);
      this.held = Buffer.concat([this.held, chunk.subarray(p, p + n)]);
      p += n;
      this.pos += n;
      if (this.held.length === this.need) this.step();
      if ((this.state as State) === 'data' && this.data!.remaining === 0) await this.endData();
    }
  }

  /** After the last byte: everything must have been accounted for. */
  async end(): Promise<void> {
    if (this.state !== 'tail') throw new ZipVerificationError('The zip ends in the middle of its files; it is truncated.');
  }

  private fail(message: string): never {
    throw new ZipVerificationError(message);
  }

  private expect(n: number, state: State): void {
    this.held = Buffer.alloc(0);
    this.need = n;
    this.state = state;
  }

  private startEntry(): void {
    const next = this.sorted[this.index];
    const at = next ? next.localHeaderOffset : this.centralDirectoryOffset;
    if (at !== this.pos) {
      const what = next ? quote(next.name) : 'the file list';
      if (at < this.pos) this.fail(`Files in the zip overlap: ${what} starts inside the previous file (a zip bomb or a crafted zip).`);
      this.fail(`The zip has ${at - this.pos} unlisted bytes before ${what}; hidden data is not accepted.`);
    }
    this.entry = next ?? null;
    if (next) this.expect(30, 'header');
    else this.state = 'tail';
  }

  private step(): void {
    const e = this.entry!;
    const h = this.held;
    if (this.state === 'header') {
      if (h.readUInt32LE(0) !== LOCAL_SIG) this.fail(`The local header of ${quote(e.name)} is missing; the zip is damaged.`);
      this.localHeader = h;
      return this.expect(h.readUInt16LE(26) + h.readUInt16LE(28), 'names');
    }
    if (this.state === 'names') return this.checkLocal(e, this.localHeader!, h);
    if (this.state === 'descriptor') return this.checkDescriptor(e, h);
  }

  private localHeader: Buffer | null = null;

  /** The local header must describe the same file as the file list: same name, method, flags and (unless deferred) sizes. */
  private checkLocal(e: ZipEntry, h: Buffer, rest: Buffer): void {
    const nameLength = h.readUInt16LE(26);
    const rawName = rest.subarray(0, nameLength);
    const extra = parseExtraFields(rest.subarray(nameLength));
    const who = quote(e.name);
    if (!rawName.equals(e.rawName)) this.fail(`The local header of ${who} names a different file, ${quote(rawName.toString('utf8'))}; the zip is crafted to unpack differently than it lists.`);
    const problems = nameProblems(rawName);
    if (problems.length) this.fail(`${NAME_PROBLEM_TEXT[problems[0]!]}: ${examples([e.name])}.`);
    if (!extra) this.fail(`The local header of ${who} has a damaged extra field.`);
    const hidden = hiddenUnicodeName(rawName, extra);
    if (hidden !== null) this.fail(`The local header of ${who} carries a second name, ${quote(hidden)}, that some unzip tools use instead.`);
    if (this.names.has(e.name)) this.fail(`The zip holds ${who} more than once.`);
    this.names.add(e.name);
    const flags = h.readUInt16LE(6);
    if (h.readUInt16LE(8) !== e.method || (flags & 0x49) !== (e.flags & 0x49)) this.fail(`The local header of ${who} disagrees with the file list about how the file is stored.`);
    const zip64 = extra.find((f) => f.id === 0x0001);
    this.zip64Local = zip64 !== undefined;
    if (!(flags & 0x08)) {
      let [csize, usize] = [h.readUInt32LE(18), h.readUInt32LE(22)];
      if (zip64 && usize === 0xffffffff && zip64.data.length >= 8) usize = Number(zip64.data.readBigUInt64LE(0));
      if (zip64 && csize === 0xffffffff && zip64.data.length >= 16) csize = Number(zip64.data.readBigUInt64LE(8));
      if (h.readUInt32LE(14) !== e.crc32 || csize !== e.compressedSize || usize !== e.uncompressedSize) {
        this.fail(`The local header of ${who} declares other sizes or another checksum than the file list.`);
      }
    }
    this.data = new EntryData(e);
    this.state = 'data';
  }

  private async endData(): Promise<void> {
    const e = this.entry!;
    await this.data!.finish();
    this.data = null;
    if (e.flags & 0x08) return this.expect(4, 'descriptor');
    this.index++;
    this.startEntry();
  }

  /** The optional data descriptor after a streamed entry: optional signature, then CRC and both sizes. */
  private checkDescriptor(e: ZipEntry, h: Buffer): void {
    const body = this.zip64Local ? 20 : 12;
    const signed = h.readUInt32LE(0) === DESCRIPTOR_SIG;
    if (h.length < (signed ? 4 + body : body)) {
      this.need = signed ? 4 + body : body;
      return;
    }
    const d = signed ? h.subarray(4) : h;
    const size = (at: number): number => (this.zip64Local ? Number(d.readBigUInt64LE(at)) : d.readUInt32LE(at));
    if (d.readUInt32LE(0) !== e.crc32 || size(4) !== e.compressedSize || size(this.zip64Local ? 12 : 8) !== e.uncompressedSize) {
      this.fail(`The data descriptor of ${quote(e.name)} declares other sizes or another checksum than the file list.`);
    }
    this.index++;
    this.startEntry();
  }
}

/** One entry's data: inflated (or taken as stored), counted and CRC-checked, stopping one byte past the declared size. */
class EntryData {
  remaining: number;
  private crc = 0;
  private out = 0;
  private small: Buffer[] | null = null;
  private inflater: zlib.InflateRaw | null = null;
  private error: Error | null = null;

  constructor(private readonly e: ZipEntry) {
    this.remaining = e.compressedSize;
    if (e.encrypted || (e.method !== 0 && e.method !== 8)) throw new ZipVerificationError(`${quote(e.name)} is encrypted or uses an unsupported compression method.`);
    if (e.method === 8 && e.compressedSize <= SMALL_ENTRY && e.uncompressedSize <= SMALL_ENTRY) this.small = [];
    else if (e.method === 8) {
      // Output chunks no bigger than the declared size + 1: a liar is caught after that many bytes.
      this.inflater = zlib.createInflateRaw({ chunkSize: Math.max(64, Math.min(64 * 1024, e.uncompressedSize + 1)) });
      this.inflater.on('data', (chunk: Buffer) => this.output(chunk));
      this.inflater.on('error', (err) => (this.error ??= err));
    }
  }

  private output(chunk: Buffer): void {
    this.out += chunk.length;
    if (this.out > this.e.uncompressedSize) {
      this.error ??= new ZipVerificationError(`${quote(this.e.name)} unpacks to more than its declared ${this.e.uncompressedSize} bytes (possibly a zip bomb).`);
      this.inflater?.destroy();
      return;
    }
    this.crc = zlib.crc32(chunk, this.crc);
  }

  async write(chunk: Buffer): Promise<void> {
    this.remaining -= chunk.length;
    if (this.e.method === 0) return this.output(chunk), this.raise();
    if (this.small) {
      this.small.push(Buffer.from(chunk));
      return;
    }
    const inflater = this.inflater!;
    if (this.error || inflater.destroyed) return this.raise();
    // The chunk may sit in a reused buffer: wait until zlib has consumed it.
    await new Promise<void>((resolve) => {
      inflater.once('close', resolve);
      inflater.write(chunk, () => {
        inflater.off('close', resolve);
        resolve();
      });
    });
    this.raise();
  }

  private raise(): void {
    if (!this.error) return;
    throw this.error instanceof ZipVerificationError ? this.error : new ZipVerificationError(`${quote(this.e.name)} has damaged compressed data.`);
  }

  async finish(): Promise<void> {
    const e = this.e;
    let consumed = e.compressedSize;
    if (this.small) {
      try {
        const r = zlib.inflateRawSync(Buffer.concat(this.small), { maxOutputLength: Math.max(1, e.uncompressedSize + 1), info: true }) as unknown as { buffer: Buffer; engine: zlib.InflateRaw };
        consumed = r.engine.bytesWritten;
        this.output(r.buffer);
      } catch (err) {
        this.error ??= (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? new ZipVerificationError(`${quote(e.name)} unpacks to more than its declared ${e.uncompressedSize} bytes (possibly a zip bomb).`) : (err as Error);
      }
    } else if (this.inflater) {
      const inflater = this.inflater;
      if (!this.error && !inflater.destroyed) {
        inflater.end();
        await finished(inflater).catch((err: Error) => (this.error ??= err));
      }
      consumed = inflater.bytesWritten;
    }
    this.raise();
    if (this.out !== e.uncompressedSize) this.fail(`${quote(e.name)} unpacks to ${this.out} bytes, not the ${e.uncompressedSize} it declares; the zip is damaged or crafted.`);
    if (this.crc >>> 0 !== e.crc32 >>> 0) this.fail(`${quote(e.name)} fails its CRC-32 check; the zip is damaged.`);
    if (consumed !== e.compressedSize) this.fail(`${quote(e.name)} has ${e.compressedSize - consumed} bytes of hidden data after its compressed content.`);
  }

  private fail(message: string): never {
    throw new ZipVerificationError(message);
  }
}
