import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { openZip } from '../../../src/services/packages/zip-archive';
import { ZipStreamVerifier, ZipVerificationError } from '../../../src/services/packages/zip-verifier';
import { bufferRangeReader } from '../../support/range-reader';
import { ATTACKS, type Attack } from '../../support/zip-attacks';
import { buildZip, zipBombEntry, type BuildOptions, type ZipEntrySpec } from '../../support/zip-builder';

/**
 * Feeds the zip through the verifier as storage would: in chunks of `chunk` bytes copied into one
 * reused buffer (so a verifier that kept a reference would see overwritten bytes).
 */
async function verify(zip: Buffer, chunk = 4096): Promise<void> {
  const archive = await openZip(bufferRangeReader(zip));
  const verifier = new ZipStreamVerifier(archive.entries, archive.centralDirectoryOffset);
  const reused = Buffer.alloc(chunk);
  for (let p = 0; p < zip.length; p += chunk) {
    const n = zip.copy(reused, 0, p, Math.min(zip.length, p + chunk));
    await verifier.write(reused.subarray(0, n));
    reused.fill(0xee);
  }
  await verifier.end();
  expect(verifier.bytesSeen).toBe(zip.length);
}

async function refusal(zip: Buffer, chunk?: number): Promise<string> {
  const err = await verify(zip, chunk).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ZipVerificationError)) throw new Error(`expected a verification refusal, got ${String(err)}`);
  return err.message;
}

const files = (extra: ZipEntrySpec[] = []): ZipEntrySpec[] => [
  { name: 'p/' },
  { name: 'p/a.php', data: '<?php echo "hello";\n'.repeat(500) },
  { name: 'p/stored.bin', data: crypto.randomBytes(70_000), method: 0 },
  { name: 'p/empty.txt', data: '' },
  ...extra,
];

describe('deep verification: honest zips pass, whatever the chunking', () => {
  it.each([1, 7, 4096, 65536])('deflated, stored, empty and directory entries in %i-byte chunks', async (chunk) => {
    await verify(buildZip(files()), chunk);
  });

  it('a large deflated entry goes through the streaming inflater', async () => {
    const text = crypto.randomBytes(1_500_000).toString('base64');
    await verify(buildZip(files([{ name: 'p/big.txt', data: text }])), 65536);
  });

  it('data descriptors, ZIP64 records and a comment', async () => {
    await verify(buildZip(files([{ name: 'p/streamed.php', data: '<?php // streamed', dataDescriptor: true }]), { comment: 'built by a test' }));
    await verify(buildZip(files(), { zip64: true }));
  });
});

describe('deep verification: the attacks are refused with a clear reason', () => {
  // The file list alone already shows some of these (finalize refuses them); the pass catches all of them again.
  it.each(Object.keys(ATTACKS) as Attack[])('%s', async (attack) => {
    const { build, reason } = ATTACKS[attack];
    const message = await refusal(build('my-plugin', '1.0'), 65536);
    expect(message).toMatch(attack === 'overlapping' ? /overlap/ : attack === 'duplicates' ? /more than once/ : attack === 'unicodePath' ? /second name, "\.\.\/\.\.\/evil2\.php"/ : reason);
  });

  it('stops inflating a liar right after its declared size', async () => {
    // 52 MB of zeros declared as 1 KB: refused after at most a few KB of output, not 52 MB.
    const started = process.memoryUsage().arrayBuffers;
    expect(await refusal(buildZip([zipBombEntry('p/zeros.bin', 52, { declaredSize: 1024 })]))).toMatch(/more than its declared 1024 bytes/);
    expect(process.memoryUsage().arrayBuffers - started).toBeLessThan(20 * 1024 * 1024);
  });
});

describe('deep verification: damaged or crafted layouts', () => {
  const zipWith = (extra: ZipEntrySpec[], opts?: BuildOptions) => buildZip(files(extra), opts);

  it('unlisted bytes between entries (hidden data)', async () => {
    expect(await refusal(zipWith([{ name: 'p/x.php', data: '<?php', paddingAfter: Buffer.from('PK\u0003\u0004 hidden entry') }]))).toMatch(/unlisted bytes before the file list/);
  });

  it('a wrong CRC-32', async () => {
    expect(await refusal(zipWith([{ name: 'p/x.php', data: '<?php // x', crc: 1234 }]))).toMatch(/"p\/x\.php" fails its CRC-32 check/);
  });

  it('an entry that inflates to fewer bytes than declared', async () => {
    expect(await refusal(zipWith([{ name: 'p/x.php', data: '<?php // x', declaredSize: 500 }]))).toMatch(/unpacks to 10 bytes, not the 500/);
  });

  it('compressed bytes after the end of the deflate stream', async () => {
    const raw = Buffer.from('<?php // x');
    const data = Buffer.concat([zlib.deflateRawSync(raw), Buffer.from('smuggled')]);
    expect(await refusal(zipWith([{ name: 'p/x.php', compressed: { data, size: raw.length, crc: zlib.crc32(raw) } }]))).toMatch(/8 bytes of hidden data/);
  });

  it('damaged deflate data', async () => {
    const garbage = { name: 'p/g', compressed: { data: Buffer.from([0xff, 0xff, 0xff, 0xff]), size: 10, crc: 0 } };
    expect(await refusal(zipWith([garbage]))).toMatch(/"p\/g" has damaged compressed data/);
  });

  it('a local header that disagrees with the file list about sizes', async () => {
    const zip = zipWith([{ name: 'p/x.php', data: '<?php // x' }]);
    const at = zip.indexOf(Buffer.from('p/x.php')) - 30;
    zip.writeUInt32LE(999, at + 22); // uncompressed size in the local header only
    expect(await refusal(zip)).toMatch(/local header of "p\/x\.php" declares other sizes/);
  });

  it('a zip cut off in the middle of an entry', async () => {
    const zip = zipWith([]);
    const archive = await openZip(bufferRangeReader(zip));
    const verifier = new ZipStreamVerifier(archive.entries, archive.centralDirectoryOffset);
    await verifier.write(zip.subarray(0, 100));
    await expect(verifier.end()).rejects.toThrow(/truncated/);
  });
});

describe('fuzzing: damaged zips are refused with a sentence, never a crash or a hang', () => {
  // A small deterministic PRNG (mulberry32): failures reproduce from the iteration number.
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it('400 mutations of an honest zip (byte flips, truncation, spliced bytes)', async () => {
    const honest = buildZip(files([{ name: 'p/streamed.php', data: '<?php // streamed', dataDescriptor: true }]), { comment: 'c' });
    for (let i = 0; i < 400; i++) {
      const rnd = prng(i);
      let zip = Buffer.from(honest);
      const kind = i % 4;
      if (kind === 3) zip = zip.subarray(0, Math.floor(rnd() * zip.length));
      else for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) zip[Math.floor(rnd() * zip.length)] = Math.floor(rnd() * 256);
      if (kind === 2) {
        const at = Math.floor(rnd() * zip.length);
        zip = Buffer.concat([zip.subarray(0, at), Buffer.from('PK\u0003\u0004'), zip.subarray(at)]);
      }
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        verify(zip, 1 + Math.floor(rnd() * 9000)).then(
          () => 'accepted',
          (err: unknown) => (err instanceof ZipVerificationError || (err as Error).name === 'ZipFormatError' ? 'refused' : `crashed: ${(err as Error).stack}`),
        ),
        new Promise<string>((r) => (timer = setTimeout(() => r('hung'), 5000))),
      ]);
      clearTimeout(timer);
      expect({ i, outcome: outcome.startsWith('crashed') || outcome === 'hung' ? outcome : 'ok' }).toEqual({ i, outcome: 'ok' });
    }
  }, 120_000);
});
