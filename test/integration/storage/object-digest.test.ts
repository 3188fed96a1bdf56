import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../../src/adapters/storage/embedded-s3';
import { digestUrl, UnsupportedResponseError } from '../../../src/adapters/storage/object-digest';
import { S3Storage } from '../../../src/adapters/storage/s3-storage';
import { createLogger } from '../../../src/logger';

const BUCKET = 'digest-test';
let dir: string;
let s3: EmbeddedS3;
let storage: S3Storage;
const servers: http.Server[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-digest-'));
  s3 = await startEmbeddedS3({ port: 0, dir, bucket: BUCKET, corsOrigins: ['http://localhost'], logger: createLogger('silent') });
  storage = new S3Storage({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, ...EMBEDDED_S3_CREDENTIALS });
});

afterAll(async () => {
  for (const s of servers) s.close();
  await storage.close();
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function put(key: string, body: Buffer): Promise<void> {
  const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: EMBEDDED_S3_CREDENTIALS });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  client.destroy();
}

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/object`;
}

test('the checksum of an object in S3 is its SHA-256, every byte counted once', async () => {
  for (const size of [0, 1, 64 * 1024, 3 * 1024 * 1024 + 7]) {
    const body = randomBytes(size);
    await put(`obj-${size}`, body);
    let counted = 0;
    const counting = new S3Storage({ bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, ...EMBEDDED_S3_CREDENTIALS, onBytesRead: (n) => (counted += n) });
    expect(await counting.sha256(`obj-${size}`)).toBe(createHash('sha256').update(body).digest('hex'));
    expect(counted).toBe(size);
    await counting.close();
  }
});

test('a missing object is an error, not a checksum', async () => {
  await expect(storage.sha256('no-such-key')).rejects.toThrow(/404/);
});

test('a chunked answer is refused as unsupported (the caller falls back to a stream)', async () => {
  const url = await serve((_req, res) => {
    res.write('abc');
    res.end('def');
  });
  await expect(digestUrl(url)).rejects.toBeInstanceOf(UnsupportedResponseError);
});

test('a connection closed before Content-Length bytes is an error', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('x'.repeat(40));
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await expect(digestUrl(url)).rejects.toThrow(/after 40 of 100 bytes/);
});

test('headers split across reads are put back together', async () => {
  const url = await serve((req, res) => {
    const socket = req.socket;
    socket.write('HTTP/1.1 200 OK\r\nContent-Le');
    setTimeout(() => socket.write('ngth: 5\r\n\r\nhel'), 30);
    setTimeout(() => socket.end('lo'), 60);
    void res;
  });
  expect(await digestUrl(url)).toBe(createHash('sha256').update('hello').digest('hex'));
});
