import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../../src/adapters/storage/embedded-s3';
import { STAGING_PREFIX } from '../../../src/adapters/storage/s3-gate/upstream';
import { createLogger } from '../../../src/logger';

/**
 * The embedded S3 (s3rver behind the gate) enforces what real S3 does: SigV4 on every request,
 * presigned URL expiry, and every condition of a browser POST's signed policy.
 */
const BUCKET = 'gate-test';
const ORIGIN = 'http://localhost:3999';
let dir: string;
let s3: EmbeddedS3;
let client: S3Client;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-gate-'));
  s3 = await startEmbeddedS3({ port: 0, dir, bucket: BUCKET, corsOrigins: [ORIGIN], logger: createLogger('silent') });
  client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: EMBEDDED_S3_CREDENTIALS });
});

afterAll(async () => {
  client.destroy();
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const objectUrl = (key: string) => `${s3.endpoint}/${BUCKET}/${key}`;

async function bytesOf(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function presignedPost(key: string, opts: { maxBytes?: number; expires?: number } = {}) {
  return createPresignedPost(client, {
    Bucket: BUCKET,
    Key: key,
    Conditions: [['content-length-range', 1, opts.maxBytes ?? 1024 * 1024], ['eq', '$Content-Type', 'application/zip'], ['eq', '$success_action_status', '204']],
    Fields: { 'Content-Type': 'application/zip', success_action_status: '204' },
    Expires: opts.expires ?? 600,
  });
}

function postForm(url: string, fields: Record<string, string>, file: Buffer, headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(file)], { type: 'application/zip' }), 'release.zip');
  return fetch(url, { method: 'POST', body: form, redirect: 'manual', headers });
}

async function expectS3Error(res: Response, status: number, code: string) {
  const text = await res.text();
  expect({ status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] }).toEqual({ status, code });
}

describe('signed requests', () => {
  test("the SDK's own calls work: put, head, ranged get, copy, list, delete", async () => {
    const body = randomBytes(300_000);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/a.bin', Body: body, ContentType: 'application/zip' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/a.bin' }));
    expect(head.ContentLength).toBe(body.length);
    const range = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk/a.bin', Range: 'bytes=10-19' }));
    expect(Buffer.from(await range.Body!.transformToByteArray())).toEqual(body.subarray(10, 20));
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'sdk/b.bin', CopySource: `${BUCKET}/sdk/a.bin` }));
    expect(await bytesOf('sdk/b.bin')).toEqual(body);
    const list = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
    expect(list.Contents?.map((o) => o.Key).sort()).toEqual(['sdk/a.bin', 'sdk/b.bin']);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'sdk/b.bin' }));
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/b.bin' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test('a wrong secret, and a signed body that was swapped, are refused', async () => {
    const wrong = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'guess' } });
    await expect(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/evil.bin', Body: 'x' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(wrong.send(new ListObjectsV2Command({ Bucket: BUCKET }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    wrong.destroy();
    const stranger = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'SOMEONE', secretAccessKey: 'S3RVER' } });
    await expect(stranger.send(new ListObjectsV2Command({ Bucket: BUCKET }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    stranger.destroy();
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk/evil.bin' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test('a presigned GET works until it expires, and not once tampered with', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dl/file.zip', Body: 'release bytes' }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'dl/file.zip', ResponseContentDisposition: 'attachment; filename="x.zip"' }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="x.zip"');
    expect(await ok.text()).toBe('release bytes');

    await expectS3Error(await fetch(url.replace('dl/file.zip', 'dl/other.zip')), 403, 'SignatureDoesNotMatch');
    await expectS3Error(await fetch(url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=600')), 403, 'SignatureDoesNotMatch');
    // Signed two hours ago for one hour: expired.
    const old = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'dl/file.zip' }), { expiresIn: 3600, signingDate: new Date(Date.now() - 2 * 3600_000) });
    await expectS3Error(await fetch(old), 403, 'AccessDenied');
  });
});

describe('anonymous requests', () => {
  test('list, GET, HEAD, PUT and DELETE without a signature get 403 and change nothing', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'anon/keep.zip', Body: 'original' }));
    await expectS3Error(await fetch(`${s3.endpoint}/${BUCKET}?list-type=2`), 403, 'AccessDenied');
    await expectS3Error(await fetch(`${s3.endpoint}/`), 403, 'AccessDenied');
    await expectS3Error(await fetch(objectUrl('anon/keep.zip')), 403, 'AccessDenied');
    expect((await fetch(objectUrl('anon/keep.zip'), { method: 'HEAD' })).status).toBe(403);
    await expectS3Error(await fetch(objectUrl('anon/keep.zip'), { method: 'PUT', body: 'overwritten' }), 403, 'AccessDenied');
    await expectS3Error(await fetch(objectUrl('anon/keep.zip'), { method: 'DELETE' }), 403, 'AccessDenied');
    await expectS3Error(await fetch(objectUrl('anon/new.zip'), { method: 'PUT', body: 'planted' }), 403, 'AccessDenied');
    // A bare form POST without a policy is not an upload either.
    await expectS3Error(await postForm(`${s3.endpoint}/${BUCKET}`, { key: 'anon/keep.zip', 'Content-Type': 'application/zip' }, Buffer.from('overwritten')), 403, 'AccessDenied');
    expect((await bytesOf('anon/keep.zip')).toString()).toBe('original');
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'anon/new.zip' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});

describe('browser POST uploads', () => {
  test('a POST that keeps to its policy is stored under its key with its content type', async () => {
    const post = await presignedPost('uploads/ok.zip');
    const body = randomBytes(200_000);
    const res = await postForm(post.url, post.fields, body, { origin: ORIGIN });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await bytesOf('uploads/ok.zip')).toEqual(body);
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/ok.zip' }))).ContentType).toBe('application/zip');
  });

  test.each<[string, (f: Record<string, string>) => Record<string, string>, number, string]>([
    ['another key', (f) => ({ ...f, key: 'uploads/victim.zip' }), 403, 'AccessDenied'],
    ['another content type', (f) => ({ ...f, 'Content-Type': 'application/x-php' }), 403, 'AccessDenied'],
    ['no content type', ({ 'Content-Type': _, ...f }) => f, 403, 'AccessDenied'],
    ['a field the policy does not name', (f) => ({ ...f, 'x-amz-meta-evil': '1' }), 403, 'AccessDenied'],
    ['a different success status', (f) => ({ ...f, success_action_status: '201' }), 403, 'AccessDenied'],
    ['a tampered policy', (f) => ({ ...f, Policy: Buffer.from(Buffer.from(f.Policy!, 'base64').toString().replace('"uploads/', '"victim/')).toString('base64') }), 403, 'SignatureDoesNotMatch'],
    ['a forged signature', (f) => ({ ...f, 'X-Amz-Signature': 'a'.repeat(64) }), 403, 'SignatureDoesNotMatch'],
    ['no signature', ({ 'X-Amz-Signature': _, ...f }) => f, 403, 'AccessDenied'],
  ])('a POST with %s is refused and stores nothing', async (_label, change, status, code) => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/victim.zip', Body: 'victim bytes' }));
    const post = await presignedPost('uploads/attacker.zip');
    const res = await postForm(post.url, change(post.fields), Buffer.from('attacker bytes'), { origin: ORIGIN });
    await expectS3Error(res, status, code);
    expect((await bytesOf('uploads/victim.zip')).toString()).toBe('victim bytes');
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/attacker.zip' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  test('content-length-range is counted while streaming: one byte over is refused and nothing is stored', async () => {
    const post = await presignedPost('uploads/big.zip', { maxBytes: 256 * 1024 });
    await expectS3Error(await postForm(post.url, post.fields, randomBytes(256 * 1024 + 1)), 400, 'EntityTooLarge');
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/big.zip' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    await expectS3Error(await postForm(post.url, post.fields, Buffer.alloc(0)), 400, 'EntityTooSmall');
    expect((await postForm(post.url, post.fields, randomBytes(256 * 1024))).status).toBe(204);
    // Nothing of the refused attempts is left in staging.
    const staged = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: STAGING_PREFIX }));
    expect(staged.Contents ?? []).toEqual([]);
  });

  test('uploads at the same time are all stored (staging never races itself)', async () => {
    // Four clients, each uploading as soon as its last upload is answered (the staging copy is deleted just after).
    const bodies = Array.from({ length: 120 }, () => randomBytes(4096));
    const answers: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (client) => {
        for (let i = client; i < bodies.length; i += 4) {
          const post = await presignedPost(`uploads/parallel-${i}.zip`, { maxBytes: 8192 });
          answers[i] = (await postForm(post.url, post.fields, bodies[i]!)).status;
        }
      }),
    );
    expect(answers).toEqual(bodies.map(() => 204));
    for (const [i, body] of bodies.entries()) {
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `uploads/parallel-${i}.zip` }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    }
    const staged = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: STAGING_PREFIX }));
    expect(staged.Contents ?? []).toEqual([]);
  });

  test('an object is whole the moment its upload is answered: a GET right after each answer reads every byte', async () => {
    // s3rver answered a PUT when it had read the body, not when it had written it (patches/s3rver+3.7.1.patch).
    const sizes = Array.from({ length: 48 }, (_, i) => 64 * 1024 + ((i * 389_111) % (3 * 1024 * 1024)));
    const whole: boolean[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < sizes.length; i += 4) {
          const body = randomBytes(sizes[i]!);
          const key = `uploads/whole-${i}.zip`;
          if (i % 2) {
            await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
          } else {
            const post = await presignedPost(key, { maxBytes: 4 * 1024 * 1024 });
            expect((await postForm(post.url, post.fields, body)).status).toBe(204);
          }
          whole[i] = (await bytesOf(key)).equals(body);
        }
      }),
    );
    expect(whole).toEqual(sizes.map(() => true));
  });

  test('an expired policy is refused', async () => {
    const post = await presignedPost('uploads/late.zip', { expires: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    await expectS3Error(await postForm(post.url, post.fields, Buffer.from('late')), 403, 'AccessDenied');
  });

  test('CORS: the configured origin gets its preflight answered, another origin does not', async () => {
    const preflight = (origin: string) =>
      fetch(`${s3.endpoint}/${BUCKET}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const ok = await preflight(ORIGIN);
    expect(ok.status).toBeLessThan(300);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect((await preflight('http://evil.test')).headers.get('access-control-allow-origin')).toBeNull();
  });
});
