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
}

export interface BuildOptions {
  zip64?: boolean;
  comment?: string;
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
    flags: (utf8 ? 0x800 : 0) | (spec.flags ?? 0),
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
  for (const spec of specs.map(prepare)) {
    const needed = z64 ? 45 : 20;
    const localExtra = z64 ? Buffer.concat([u16(1), u16(16), u64(spec.size), u64(spec.csize)]) : Buffer.alloc(0);
    const local = Buffer.concat([
      u32(0x04034b50), u16(needed), u16(spec.flags), u16(spec.method), u16(0), u16(0x21),
      u32(spec.crc), u32(z64 ? 0xffffffff : spec.csize), u32(z64 ? 0xffffffff : spec.size),
      u16(spec.name.length), u16(localExtra.length), spec.name, localExtra,
    ]);
    const centralExtra = z64 ? Buffer.concat([u16(1), u16(24), u64(spec.size), u64(spec.csize), u64(offset)]) : Buffer.alloc(0);
    central.push(
      Buffer.concat([
        u32(0x02014b50), u16(MADE_BY_UNIX), u16(needed), u16(spec.flags), u16(spec.method), u16(0), u16(0x21),
        u32(spec.crc), u32(z64 ? 0xffffffff : spec.csize), u32(z64 ? 0xffffffff : spec.size),
        u16(spec.name.length), u16(centralExtra.length), u16(0), u16(0), u16(0), u32(spec.external),
        u32(z64 ? 0xffffffff : offset), spec.name, centralExtra,
      ]),
    );
    parts.push(local, spec.payload);
    offset += local.length + spec.payload.length;
  }
  const cd = Buffer.concat(central);
  const cdOffset = offset;
  const tail: Buffer[] = [];
  if (z64) {
    const recordOffset = cdOffset + cd.length;
    tail.push(
      Buffer.concat([
        u32(0x06064b50), u64(44), u16(MADE_BY_UNIX), u16(45), u32(0), u32(0),
        u64(specs.length), u64(specs.length), u64(cd.length), u64(cdOffset),
      ]),
      Buffer.concat([u32(0x07064b50), u32(0), u64(recordOffset), u32(1)]),
    );
  }
  const comment = Buffer.from(opts.comment ?? '', 'latin1');
  tail.push(
    Buffer.concat([
      u32(0x06054b50), u16(0), u16(0),
      u16(z64 ? 0xffff : specs.length), u16(z64 ? 0xffff : specs.length),
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
