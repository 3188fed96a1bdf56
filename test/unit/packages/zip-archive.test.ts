import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { bufferRangeReader } from '../../support/range-reader';
import { openZip, ZipFormatError, type ZipArchive, type ZipEntry } from '../../../src/services/packages/zip-archive';
import { buildZip, zipBombEntry } from '../../support/zip-builder';

const MiB = 1024 * 1024;

function entry(zip: ZipArchive, name: string): ZipEntry {
  const found = zip.entries.find((e) => e.name === name);
  if (!found) throw new Error(`no entry ${name} in ${zip.entries.map((e) => e.name).join(', ')}`);
  return found;
}

describe('zip archive (yauzl over ranges): central directory', () => {
  it('lists names, methods, sizes, CRCs, directories and offsets', async () => {
    const text = 'hello world\n'.repeat(200);
    const zip = await openZip(
      bufferRangeReader(buildZip([{ name: 'p/' }, { name: 'p/a.txt', data: text }, { name: 'p/b.txt', data: 'stored', method: 0 }])),
    );
    expect(zip.entries.map((e) => e.name)).toEqual(['p/', 'p/a.txt', 'p/b.txt']);
    const a = entry(zip, 'p/a.txt');
    expect(a).toMatchObject({ method: 8, uncompressedSize: text.length, crc32: zlib.crc32(text), isDirectory: false, unixMode: 0o100644 });
    expect(a.compressedSize).toBeLessThan(text.length);
    expect(entry(zip, 'p/').isDirectory).toBe(true);
    expect(entry(zip, 'p/b.txt')).toMatchObject({ method: 0, compressedSize: 6, uncompressedSize: 6 });
    expect(await zip.readEntry(a, MiB)).toEqual(Buffer.from(text));
    expect((await zip.readEntry(entry(zip, 'p/b.txt'), 100)).toString()).toBe('stored');
  });

  it('keeps the raw name bytes; names are read as UTF-8 (zip-names refuses what is not)', async () => {
    const zip = await openZip(
      bufferRangeReader(
        buildZip([
          { name: 'p/naïve-日本.txt', data: 'x' },
          { name: 'p/cp437.txt', rawName: Buffer.from([0x70, 0x2f, 0x81, 0x94, 0x2e, 0x74]), utf8: false, data: 'y' },
        ]),
      ),
    );
    expect(zip.entries.map((e) => e.name)).toEqual(['p/naïve-日本.txt', 'p/\ufffd\ufffd.t']);
    expect(zip.entries[1]!.rawName).toEqual(Buffer.from([0x70, 0x2f, 0x81, 0x94, 0x2e, 0x74]));
  });

  it('finds the end record behind a comment, even one longer than the first tail read', async () => {
    const shortReader = bufferRangeReader(buildZip([{ name: 'p/a', data: 'a' }], { comment: 'built by test' }));
    expect((await openZip(shortReader)).entries).toHaveLength(1);
    expect(shortReader.reads).toBe(1); // the tail probe holds the end record and the whole file list
    const long = await openZip(bufferRangeReader(buildZip([{ name: 'p/a', data: 'a' }], { comment: 'c'.repeat(30_000) })));
    expect(long.entries.map((e) => e.name)).toEqual(['p/a']);
  });

  it('reads ZIP64 end records and extra fields', async () => {
    const zip = await openZip(bufferRangeReader(buildZip([{ name: 'p/' }, { name: 'p/a.txt', data: 'zip64 data' }], { zip64: true })));
    expect(entry(zip, 'p/a.txt').uncompressedSize).toBe(10);
    expect((await zip.readEntry(entry(zip, 'p/a.txt'), 100)).toString()).toBe('zip64 data');
  });

  it('recognises Unix symlinks from the external attributes', async () => {
    const zip = await openZip(bufferRangeReader(buildZip([{ name: 'p/link', symlinkTarget: '/etc/passwd' }, { name: 'p/file', data: 'x' }])));
    expect(entry(zip, 'p/link')).toMatchObject({ isSymlink: true, unixMode: 0o120777 });
    expect(entry(zip, 'p/file').isSymlink).toBe(false);
  });

  it('refuses files that are not zips, or were cut short', async () => {
    await expect(openZip(bufferRangeReader(Buffer.from('<?php echo "not a zip";')))).rejects.toThrow(/not a zip/);
    await expect(openZip(bufferRangeReader(Buffer.alloc(5)))).rejects.toThrow(ZipFormatError);
    const good = buildZip([{ name: 'p/a.txt', data: 'a'.repeat(1000) }]);
    await expect(openZip(bufferRangeReader(good.subarray(0, good.length - 10)))).rejects.toThrow(/not a zip archive, or it was cut short/);
    // End record intact but the data before it is missing: offsets point outside the file.
    const cut = Buffer.concat([good.subarray(0, 40), good.subarray(good.length - 22)]);
    await expect(openZip(bufferRangeReader(cut))).rejects.toThrow(ZipFormatError);
  });

  it('refuses an end record whose file list cannot fit in the file, without reading it', async () => {
    const zip = buildZip([{ name: 'p/a', data: 'a' }]);
    zip.writeUInt16LE(60_000, zip.length - 22 + 8);
    zip.writeUInt16LE(60_000, zip.length - 22 + 10);
    const reader = bufferRangeReader(zip);
    await expect(openZip(reader)).rejects.toThrow(/file list does not fit/);
    expect(reader.bytesRead).toBeLessThan(8192);
  });

  it('refuses more than 100 000 entries', async () => {
    const zip = buildZip([{ name: 'p/a', data: 'a' }], { zip64: true });
    const record = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    zip.writeBigUInt64LE(200_000n, record + 32);
    await expect(openZip(bufferRangeReader(zip))).rejects.toThrow(/200000 entries/);
  });
});

describe('zip archive: readEntry', () => {
  it('refuses output beyond the declared size (lying header) and stops early', async () => {
    const zip = await openZip(bufferRangeReader(buildZip([{ name: 'p/a.php', data: 'A'.repeat(5000), declaredSize: 10 }])));
    await expect(zip.readEntry(entry(zip, 'p/a.php'), MiB)).rejects.toThrow(/more than its declared 10 bytes/);
    await expect(zip.readEntry(entry(zip, 'p/a.php'), MiB, { partial: true })).rejects.toThrow(/declared/);
  });

  it('stops a lying bomb after reading a few KiB of it', async () => {
    const reader = bufferRangeReader(buildZip([zipBombEntry('p/zeros', 200, { declaredSize: 1000 })]));
    const zip = await openZip(reader);
    await expect(zip.readEntry(entry(zip, 'p/zeros'), 100 * MiB)).rejects.toThrow(/more than its declared 1000 bytes/);
    expect(reader.bytesRead).toBeLessThan(16 * 1024);
  });

  it('refuses an entry above maxBytes without reading its data, or returns a prefix when partial', async () => {
    const reader = bufferRangeReader(buildZip([zipBombEntry('p/zeros', 200)]));
    const zip = await openZip(reader);
    const bomb = entry(zip, 'p/zeros');
    const before = reader.bytesRead;
    await expect(zip.readEntry(bomb, MiB)).rejects.toThrow(/more than the 1048576 bytes/);
    expect(reader.bytesRead).toBe(before);
    const prefix = await zip.readEntry(bomb, MiB, { partial: true });
    expect(prefix.length).toBe(MiB);
    expect(prefix.every((b) => b === 0)).toBe(true);
    expect(reader.bytesRead - before).toBeLessThan(100 * 1024);
  });

  it('reads only a little of a large entry for a partial read', async () => {
    const noise = crypto.randomBytes(2 * MiB).toString('base64');
    const reader = bufferRangeReader(buildZip([{ name: 'p/big.php', data: noise }]));
    const zip = await openZip(reader);
    const head = await zip.readEntry(entry(zip, 'p/big.php'), 8192, { partial: true });
    expect(head.toString()).toBe(noise.slice(0, 8192));
    expect(reader.bytesRead).toBeLessThan(80 * 1024);
  });

  it('verifies the CRC of a whole entry', async () => {
    const zip = await openZip(bufferRangeReader(buildZip([{ name: 'p/a', data: 'payload', crc: 1234 }])));
    await expect(zip.readEntry(entry(zip, 'p/a'), 100)).rejects.toThrow(/CRC/);
  });

  it('refuses encrypted entries and unsupported methods with clear messages', async () => {
    const zip = await openZip(
      bufferRangeReader(buildZip([{ name: 'p/secret', data: 'xx', flags: 0x1 }, { name: 'p/bz', data: 'BZh9', method: 12 }])),
    );
    await expect(zip.readEntry(entry(zip, 'p/secret'), 100)).rejects.toThrow(/"p\/secret" is encrypted/);
    await expect(zip.readEntry(entry(zip, 'p/bz'), 100)).rejects.toThrow(/BZIP2 compression method, which is not supported/);
  });

  it('reports damaged compressed data and entries that end early', async () => {
    const garbage = { name: 'p/g', compressed: { data: Buffer.from([0xff, 0xff, 0xff, 0xff]), size: 10, crc: 0 } };
    const short = { name: 'p/s', data: 'abc', declaredSize: 10 };
    const zip = await openZip(bufferRangeReader(buildZip([garbage, short])));
    await expect(zip.readEntry(entry(zip, 'p/g'), 100)).rejects.toThrow(/damaged compressed data/);
    await expect(zip.readEntry(entry(zip, 'p/s'), 100)).rejects.toThrow(/fewer bytes than declared/);
  });
});
