/** Honest plugin zips for the bench: small ones in memory, big ones streamed to a file. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';

interface Entry {
  name: string;
  method: 0 | 8;
  crc: number;
  size: number;
  csize: number;
  offset: number;
}

const MADE_BY_UNIX = (3 << 8) | 20;

function localHeader(name: Buffer, method: number, crc: number, csize: number, size: number): Buffer {
  const b = Buffer.alloc(30);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(20, 4);
  b.writeUInt16LE(0, 6); // flags
  b.writeUInt16LE(method, 8);
  b.writeUInt16LE(0, 10); // time
  b.writeUInt16LE(0x21, 12); // date: 1980-01-01
  b.writeUInt32LE(crc >>> 0, 14);
  b.writeUInt32LE(csize, 18);
  b.writeUInt32LE(size, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(0, 28);
  return Buffer.concat([b, name]);
}

function centralDirectory(entries: Entry[], cdOffset: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const isDir = e.name.endsWith('/');
    const b = Buffer.alloc(46);
    b.writeUInt32LE(0x02014b50, 0);
    b.writeUInt16LE(MADE_BY_UNIX, 4);
    b.writeUInt16LE(20, 6);
    b.writeUInt16LE(0, 8);
    b.writeUInt16LE(e.method, 10);
    b.writeUInt16LE(0, 12);
    b.writeUInt16LE(0x21, 14);
    b.writeUInt32LE(e.crc >>> 0, 16);
    b.writeUInt32LE(e.csize, 20);
    b.writeUInt32LE(e.size, 24);
    b.writeUInt16LE(name.length, 28);
    b.writeUInt32LE((isDir ? 0o40755 : 0o100644) * 0x10000 + (isDir ? 0x10 : 0), 38);
    b.writeUInt32LE(e.offset, 42);
    parts.push(b, name);
  }
  const cd = Buffer.concat(parts);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([cd, end]);
}

export interface FileSpec {
  name: string;
  data?: string | Buffer;
}

/** A complete zip in memory: directories stored, files deflated. */
export function buildZip(files: FileSpec[]): Buffer {
  const parts: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (const f of files) {
    const raw = Buffer.from(f.data ?? '');
    const method = f.name.endsWith('/') ? 0 : 8;
    const payload = method === 8 ? zlib.deflateRawSync(raw) : raw;
    const crc = zlib.crc32(raw);
    const header = localHeader(Buffer.from(f.name), method, crc, payload.length, raw.length);
    entries.push({ name: f.name, method, crc, size: raw.length, csize: payload.length, offset });
    parts.push(header, payload);
    offset += header.length + payload.length;
  }
  parts.push(centralDirectory(entries, offset));
  return Buffer.concat(parts);
}

/**
 * Writes `files` then one stored entry of random (incompressible) bytes so the zip is `totalBytes`
 * long, in 1 MiB chunks: memory stays flat whatever the size. The CRC is patched in afterwards.
 */
export function writeBigZip(path: string, files: FileSpec[], bigName: string, totalBytes: number): void {
  const fd = fs.openSync(path, 'w');
  try {
    const entries: Entry[] = [];
    let offset = 0;
    const write = (b: Buffer) => {
      fs.writeSync(fd, b, 0, b.length, offset);
      offset += b.length;
    };
    for (const f of files) {
      const raw = Buffer.from(f.data ?? '');
      const method = f.name.endsWith('/') ? 0 : 8;
      const payload = method === 8 ? zlib.deflateRawSync(raw) : raw;
      const crc = zlib.crc32(raw);
      entries.push({ name: f.name, method, crc, size: raw.length, csize: payload.length, offset });
      write(localHeader(Buffer.from(f.name), method, crc, payload.length, raw.length));
      write(payload);
    }
    const name = Buffer.from(bigName);
    const bigHeader = localHeader(name, 0, 0, 0, 0);
    const cdSize = 46 * (entries.length + 1) + entries.reduce((n, e) => n + Buffer.byteLength(e.name), 0) + name.length + 22;
    const size = totalBytes - offset - bigHeader.length - cdSize;
    if (size <= 0) throw new Error(`zip of ${totalBytes} bytes is too small for its small files`);
    const entry: Entry = { name: bigName, method: 0, crc: 0, size, csize: size, offset };
    write(localHeader(name, 0, 0, size, size));
    let crc = 0;
    const chunk = 1024 * 1024;
    for (let left = size; left > 0; left -= chunk) {
      const b = crypto.randomBytes(Math.min(chunk, left));
      crc = zlib.crc32(b, crc);
      write(b);
    }
    entry.crc = crc;
    const crcBuf = Buffer.alloc(4);
    crcBuf.writeUInt32LE(crc >>> 0);
    fs.writeSync(fd, crcBuf, 0, 4, entry.offset + 14);
    entries.push(entry);
    write(centralDirectory(entries, offset));
  } finally {
    fs.closeSync(fd);
  }
}
