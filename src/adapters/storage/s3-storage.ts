import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { scanUrl, UnsupportedResponseError } from './object-digest';
import { S3GetPresigner } from './s3-get-presigner';
import type { ObjectHead, PresignedPost, PresignPostOptions, Storage } from './storage';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  /** The endpoint browsers and WordPress sites use, when it differs from ours. */
  publicEndpoint?: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Counts bytes read through readRange/sha256, for the upload-cost benchmark. */
  onBytesRead?: (n: number) => void;
}

export class S3Storage implements Storage {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly publicClient: S3Client;
  private readonly getPresigner: S3GetPresigner;

  constructor(private readonly opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    const base: S3ClientConfig = {
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
        : {}),
    };
    this.client = new S3Client({ ...base, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
    const pub = opts.publicEndpoint ?? opts.endpoint;
    this.publicClient = pub === opts.endpoint ? this.client : new S3Client({ ...base, endpoint: pub });
    this.getPresigner = new S3GetPresigner(this.publicClient, this.bucket);
  }

  async presignPost(o: PresignPostOptions): Promise<PresignedPost> {
    const fields: Record<string, string> = { 'Content-Type': o.contentType };
    const conditions: any[] = [
      ['content-length-range', 1, o.maxBytes],
      ['eq', '$Content-Type', o.contentType],
    ];
    if (o.successRedirect) {
      fields.success_action_redirect = o.successRedirect;
      conditions.push(['eq', '$success_action_redirect', o.successRedirect]);
    } else {
      fields.success_action_status = '204';
      conditions.push(['eq', '$success_action_status', '204']);
    }
    return createPresignedPost(this.publicClient, {
      Bucket: this.bucket,
      Key: o.key,
      Conditions: conditions,
      Fields: fields,
      Expires: o.expiresSeconds,
    });
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: Number(r.ContentLength ?? 0), contentType: r.ContentType };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async readRange(key: string, offset: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    const r = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }),
    );
    const bytes = Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    this.opts.onBytesRead?.(bytes.length);
    return bytes;
  }

  async scan(key: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<number> {
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: 300 });
    try {
      return await scanUrl(url, onChunk, this.opts.onBytesRead);
    } catch (err) {
      if (!(err instanceof UnsupportedResponseError)) throw err;
      // An S3-compatible server that answers in another shape: the SDK's stream (more memory, same bytes).
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      let total = 0;
      for await (const chunk of r.Body as Readable) {
        this.opts.onBytesRead?.((chunk as Buffer).length);
        total += (chunk as Buffer).length;
        await onChunk(chunk as Buffer);
      }
      return total;
    }
  }

  /** SHA-256 (hex) of an object's bytes, read in constant memory. */
  async sha256(key: string): Promise<string> {
    const hash = createHash('sha256');
    await this.scan(key, (chunk) => {
      hash.update(chunk);
    });
    return hash.digest('hex');
  }

  async putStream(key: string, body: NodeJS.ReadableStream, contentType: string): Promise<number> {
    let total = 0;
    const counted = new PassThrough();
    counted.on('data', (c: Buffer) => (total += c.length));
    body.on('error', (err: Error) => counted.destroy(err));
    body.pipe(counted);
    // lib-storage holds at most queueSize parts of partSize in memory, whatever the object's length.
    const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: contentType }, queueSize: 2, partSize: 5 * 1024 * 1024, leavePartsOnError: false });
    await upload.done();
    return total;
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = `${this.bucket}/${fromKey}`.split('/').map(encodeURIComponent).join('/');
    await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: source, MetadataDirective: 'COPY' }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    // One object at a time: DeleteObjects needs Content-MD5, which not every S3-compatible store (s3rver) checks the same way.
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  /** Downloads are signed without the SDK's per-call machinery (s3-get-presigner.ts). */
  presignGet(key: string, o: { expiresSeconds: number; filename: string }): Promise<string> {
    return this.getPresigner.presign(key, o);
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.publicClient !== this.client) this.publicClient.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
