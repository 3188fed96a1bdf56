/** A tiny zip writer for tests: honest zips, hostile zips (symlinks, lying sizes, bombs) and ZIP64. */
import zlib from 'node:zlib';

export interface ZipEntrySpec {
  /** Stored as given; end with "/" for a directory. */
  name: string;
  data?: Buffer | string;
  /** 0 = stored, 8 = deflate (default for files), anything else is written as-is with the data stored. */
  method?: number;
  /** Makes a Unix symlink entry pointing at this target. */
  symlinkTarget?: string;
  /** st_mode written in the external attributes (made by Unix); defaults to 0o100644 / 0o40755. */
  unixMode?: number;
  /** Lies: sizes and CRC written to both headers instead of the real ones. */
  declaredSize?: number;
  declaredCompressedSize?: number;
  crc?: number;
  /** Extra general-purpose flags, e.g. 0x1 (encrypted). */
  flags?: number;
  /** Write the name with the UTF-8 flag (default: when it is not ASCII) or raw CP437 bytes. */
  utf8?: boolean;
  rawName?: Buffer;
  /** Already-deflated payload with its true size and CRC (for bombs). */
  compressed?: { data: Buffer; size: number; crc: number };
  /** Extra fields written to both headers (e.g. a 0x7075 Unicode path). */
  extra?: { id: number; data: Buffer }[];
  /** A different name in the local header only (the file list keeps `name`). */
  localName?: string;
  /** Streamed style: sizes and CRC in a data descriptor after the data (flag bit 3). */
  dataDescriptor?: boolean;
  /** Unlisted bytes written after this entry's data. */
  paddingAfter?: Buffer;
}

export interface BuildOptions {
  zip64?: boolean;
  comment?: string;
  /** More file-list records pointing at an existing entry's bytes under other names (overlapping entries). */
  aliases?: { name: string; of: string }[];
}

/** A 0x7075 Info-ZIP Unicode Path extra field naming `unicodeName` for an entry whose header name is `headerName`. */
export function unicodePathExtra(headerName: string, unicodeName: string): { id: number; data: Buffer } {
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(zlib.crc32(Buffer.from(headerName)));
  return { id: 0x7075, data: Buffer.concat([Buffer.from([1]), crc, Buffer.from(unicodeName, 'utf8')]) };
}

interface Prepared {
  spec: ZipEntrySpec;
  name: Buffer;
  flags: number;
  method: number;
  payload: Buffer;
  crc: number;
  size: number;
  csize: number;
  external: number;
}

function prepare(spec: ZipEntrySpec): Prepared {
  const isDir = spec.name.endsWith('/');
  const raw = spec.symlinkTarget !== undefined ? Buffer.from(spec.symlinkTarget) : Buffer.from(spec.data ?? '');
  const method = spec.compressed ? 8 : (spec.method ?? (isDir || spec.symlinkTarget !== undefined ? 0 : 8));
  const payload = spec.compressed?.data ?? (method === 8 ? zlib.deflateRawSync(raw) : raw);
  const utf8 = spec.utf8 ?? /[^\x20-\x7e]/.test(spec.name);
  const mode = spec.symlinkTarget !== undefined ? 0o120777 : (spec.unixMode ?? (isDir ? 0o40755 : 0o100644));
  return {
    spec,
    name: spec.rawName ?? Buffer.from(spec.name, utf8 ? 'utf8' : 'latin1'),
    flags: (utf8 ? 0x800 : 0) | (spec.flags ?? 0) | (spec.dataDescriptor ? 0x08 : 0),
    method,
    payload,
    crc: spec.crc ?? spec.compressed?.crc ?? zlib.crc32(raw),
    size: spec.declaredSize ?? spec.compressed?.size ?? raw.length,
    csize: spec.declaredCompressedSize ?? payload.length,
    // (mode << 16) overflows a signed 32-bit shift, so multiply; low byte keeps the DOS directory bit.
    external: mode * 0x10000 + (isDir ? 0x10 : 0),
  };
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

export function buildZip(specs: ZipEntrySpec[], opts: BuildOptions = {}): Buffer {
  const z64 = opts.zip64 ?? false;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const MADE_BY_UNIX = (3 << 8) | 45;
  const records: { name: Buffer; spec: Prepared; offset: number }[] = [];
  for (const spec of specs.map(prepare)) {
    const needed = z64 ? 45 : 20;
    const extra = Buffer.concat((spec.spec.extra ?? []).map((f) => Buffer.concat([u16(f.id), u16(f.data.length), f.data])));
    const localExtra = Buffer.concat([z64 ? Buffer.concat([u16(1), u16(16), u64(spec.size), u64(spec.csize)]) : Buffer.alloc(0), extra]);
    const localName = spec.spec.localName !== undefined ? Buffer.from(spec.spec.localName) : spec.name;
    const dd = spec.spec.dataDescriptor ?? false;
    const local = Buffer.concat([
      u32(0x04034b50), u16(needed), u16(spec.flags), u16(spec.method), u16(0), u16(0x21),
      u32(dd ? 0 : spec.crc), u32(dd ? 0 : z64 ? 0xffffffff : spec.csize), u32(dd ? 0 : z64 ? 0xffffffff : spec.size),
      u16(localName.length), u16(localExtra.length), localName, localExtra,
    ]);
    const descriptor = dd ? Buffer.concat([u32(0x08074b50), u32(spec.crc), ...(z64 ? [u64(spec.csize), u64(spec.size)] : [u32(spec.csize), u32(spec.size)])]) : Buffer.alloc(0);
    records.push({ name: spec.name, spec, offset });
    parts.push(local, spec.payload, descriptor, spec.spec.paddingAfter ?? Buffer.alloc(0));
    offset += local.length + spec.payload.length + descriptor.length + (spec.spec.paddingAfter?.length ?? 0);
  }
  const aliases = (opts.aliases ?? []).map((a) => {
    const target = records.find((r) => r.spec.spec.name === a.of);
    if (!target) throw new Error(`no entry ${a.of} to alias`);
    return { name: Buffer.from(a.name), spec: target.spec, offset: target.offset };
  });
  for (const { name, spec, offset: at } of [...records, ...aliases]) {
    const needed = z64 ? 45 : 20;
    const extra = Buffer.concat((spec.spec.extra ?? []).map((f) => Buffer.concat([u16(f.id), u16(f.data.length), f.data])));
    const centralExtra = Buffer.concat([z64 ? Buffer.concat([u16(1), u16(24), u64(spec.size), u64(spec.csize), u64(at)]) : Buffer.alloc(0), extra]);
    central.push(
      Buffer.concat([
        u32(0x02014b50), u16(MADE_BY_UNIX), u16(needed), u16(spec.flags), u16(spec.method), u16(0), u16(0x21),
        u32(spec.crc), u32(z64 ? 0xffffffff : spec.csize), u32(z64 ? 0xffffffff : spec.size),
        u16(name.length), u16(centralExtra.length), u16(0), u16(0), u16(0), u32(spec.external),
        u32(z64 ? 0xffffffff : at), name, centralExtra,
      ]),
    );
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (z64) {
    const recordOffset = cdOffset + cd.length;
    tail.push(
      Buffer.concat([
        u32(0x06064b50), u64(44), u16(MADE_BY_UNIX), u16(45), u32(0), u32(0),
        u64(central.length), u64(central.length), u64(cd.length), u64(cdOffset),
      ]),
      Buffer.concat([u32(0x07064b50), u32(0), u64(recordOffset), u32(1)]),
    );
  }
  const comment = Buffer.from(opts.comment ?? '', 'latin1');
  tail.push(
    Buffer.concat([
      u32(0x06054b50), u16(0), u16(0),
      u16(z64 ? 0xffff : central.length), u16(z64 ? 0xffff : central.length),
      u32(z64 ? 0xffffffff : cd.length), u32(z64 ? 0xffffffff : cdOffset),
      u16(comment.length), comment,
    ]),
  );
  return Buffer.concat([...parts, cd, ...tail]);
}

/**
 * A deflated run of zeros, built from one 1 MiB full-flushed block repeated (each piece stands alone,
 * so the copies concatenate into one valid stream) plus an empty final block: fast and low-memory.
 */
export function zipBombEntry(name: string, megabytes = 200, lie?: { declaredSize: number }): ZipEntrySpec {
  const block = Buffer.alloc(1024 * 1024);
  const piece = zlib.deflateRawSync(block, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < megabytes; i++) crc = zlib.crc32(block, crc);
  const data = Buffer.concat([...Array.from({ length: megabytes }, () => piece), Buffer.from([0x03, 0x00])]);
  return { name, compressed: { data, size: megabytes * block.length, crc }, declaredSize: lie?.declaredSize };
}

/** A PHP file whose docblock carries the given WordPress headers. */
export function phpWithHeaders(headers: Record<string, string>, body = ''): string {
  const lines = Object.entries(headers).map(([k, v]) => ` * ${k}: ${v}`);
  return `<?php\n/**\n${lines.join('\n')}\n */\n${body}`;
}

/** A style.css whose comment carries the given theme headers. */
export function cssWithHeaders(headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `/*\n${lines.join('\n')}\n*/\nbody { margin: 0; }\n`;
}
