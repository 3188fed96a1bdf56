import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../../src/adapters/storage/embedded-s3';
import { S3Storage } from '../../../src/adapters/storage/s3-storage';
import { createLogger } from '../../../src/logger';

/** putStream: a stream of unknown length reaches S3 through the gate, multipart when it is large. */
const BUCKET = 'put-stream-test';
let dir: string;
let s3: EmbeddedS3;
let storage: S3Storage;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-put-'));
  s3 = await startEmbeddedS3({ port: 0, dir, bucket: BUCKET, corsOrigins: [], logger: createLogger('silent') });
  storage = new S3Storage({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, ...EMBEDDED_S3_CREDENTIALS });
});

afterAll(async () => {
  await storage.close();
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function chunks(total: number, seed: Buffer): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      this.push(seed.subarray(0, n));
    },
  });
}

test.each([
  ['small (one PutObject)', 100_000],
  ['large (multipart: three parts)', 12 * 1024 * 1024 + 17],
])('%s', async (_label, size) => {
  const seed = randomBytes(64 * 1024);
  const expected = createHash('sha256');
  for (let sent = 0; sent < size; sent += 64 * 1024) expected.update(seed.subarray(0, Math.min(64 * 1024, size - sent)));
  const key = `t/${size}.zip`;
  expect(await storage.putStream(key, chunks(size, seed), 'application/zip')).toBe(size);
  expect(await storage.head(key)).toEqual({ size, contentType: 'application/zip' });
  expect(await storage.sha256(key)).toBe(expected.digest('hex'));
});
