/** A browser's form POST to the bucket: fields checked against the signed policy, then the file streamed through, counted. */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { Logger } from '../../../logger';
import { checkPostPolicy, type AllowedUpload } from './post-policy';
import { accessDenied, S3Error, sendS3Error, xmlDocument } from './s3-error';
import type { GateCredentials } from './sigv4';
import { STAGING_PREFIX, type Upstream } from './upstream';

export interface PostContext {
  bucket: string;
  credentials: GateCredentials;
  upstream: Upstream;
  logger: Logger;
}

// S3 allows 20 KB of fields before the file; a policy is well under that.
const LIMITS = { fields: 40, fieldSize: 20 * 1024, fieldNameSize: 200, files: 1, parts: 42, headerPairs: 20 };
/** After a refusal the rest of the body is read (so the client sees the answer) up to this much, then the socket is closed. */
const DRAIN_BYTES = 64 * 1024 * 1024;

const malformed = () => new S3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
const asS3Error = (err: unknown): S3Error => (err instanceof S3Error ? err : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'));
const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export function handleBrowserPost(req: IncomingMessage, res: ServerResponse, ctx: PostContext): void {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: LIMITS, defParamCharset: 'utf8' });
  } catch {
    sendS3Error(res, malformed(), { close: true });
    req.resume();
    return;
  }
  const fields = new Map<string, string>();
  let sawFile = false;
  let answered = false;

  const refuse = (err: S3Error): void => {
    if (answered) return;
    answered = true;
    ctx.logger.info({ code: err.code, reason: err.message, key: fields.get('key') }, 's3 gate: upload refused');
    // Not `Connection: close`: the client is still sending, and would see a reset instead of the answer.
    sendS3Error(res, err);
    req.unpipe(bb);
    let left = DRAIN_BYTES;
    req.on('data', (c: Buffer) => {
      left -= c.length;
      if (left < 0) req.destroy();
    });
    req.resume();
  };

  bb.on('field', (name, value, info) => {
    if (sawFile || answered) return; // S3 ignores fields after the file
    if (info.nameTruncated || info.valueTruncated) return refuse(new S3Error(400, 'MaxPostPreDataLengthExceeded', 'Your POST request fields preceding the upload file were too large.'));
    const k = name.toLowerCase();
    if (fields.has(k)) return refuse(new S3Error(400, 'InvalidArgument', `The field ${k} appears more than once.`));
    fields.set(k, value);
  });
  bb.on('file', (name, file) => {
    if (sawFile || answered) return void file.resume();
    sawFile = true;
    if (name.toLowerCase() !== 'file') {
      file.resume();
      return refuse(new S3Error(400, 'InvalidArgument', 'The file must be sent in a field named file.'));
    }
    receive(file).catch((err: unknown) => {
      ctx.logger.warn({ err: (err as Error).message }, 's3 gate: upload failed');
      refuse(asS3Error(err));
    });
  });
  for (const limit of ['fieldsLimit', 'partsLimit'] as const) bb.on(limit, () => refuse(new S3Error(400, 'MaxPostPreDataLengthExceeded', 'Your POST request has too many fields.')));
  bb.on('filesLimit', () => refuse(new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.')));
  bb.on('error', () => refuse(malformed()));
  bb.on('close', () => {
    if (!sawFile) refuse(new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.'));
  });
  req.pipe(bb);

  async function receive(file: Readable): Promise<void> {
    let allowed: AllowedUpload;
    try {
      allowed = await checkPostPolicy(fields, ctx.bucket, ctx.credentials);
      if (allowed.key.startsWith(STAGING_PREFIX)) throw accessDenied('Access Denied');
    } catch (err) {
      file.resume();
      return refuse(asS3Error(err));
    }
    const staging = ctx.upstream.stagingKey();
    const put = ctx.upstream.putStaging(staging, allowed.contentType);
    let bytes = 0;
    let stored = false;
    try {
      for await (const chunk of file as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        // Counted while streaming: the body is cut off (never stored) the moment it passes the policy's maximum.
        if (bytes > allowed.maxBytes) return refuse(new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${allowed.maxBytes} bytes.`));
        if (!put.req.write(chunk)) await once(put.req, 'drain');
      }
      if (bytes < allowed.minBytes) return refuse(new S3Error(400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size of ${allowed.minBytes} bytes.`));
      put.req.end();
      const staged = await put.done;
      if (staged.status !== 200) throw new Error(`s3rver answered ${staged.status} to the staging PUT`);
      // What is on disk, not what was sent: only a whole upload may replace the object at its key.
      const onDisk = await ctx.upstream.call('HEAD', staging);
      if (onDisk.status !== 200 || Number(onDisk.headers['content-length']) !== bytes) throw new Error(`s3rver holds ${onDisk.headers['content-length']} of the ${bytes} bytes uploaded`);
      await ctx.upstream.copy(staging, allowed.key, allowed.contentType);
      stored = true;
      succeed(allowed, staged.etag ?? '""');
    } finally {
      // Always a clean end (never an abort): s3rver leaves an aborted PUT's file open.
      if (!put.req.writableEnded) put.req.end();
      await put.done.catch(() => undefined);
      await ctx.upstream.delete(staging).catch((err: unknown) => ctx.logger.warn({ err: (err as Error).message, staging }, 's3 gate: staging object left behind'));
      if (!stored) ctx.logger.debug({ key: allowed.key, bytes }, 's3 gate: upload not stored');
    }
  }

  function succeed(allowed: AllowedUpload, etag: string): void {
    if (answered) return;
    answered = true;
    const location = `http://${req.headers.host ?? 'localhost'}/${ctx.bucket}/${encodeKey(allowed.key)}`;
    if (allowed.successRedirect) {
      const to = new URL(allowed.successRedirect);
      to.searchParams.set('bucket', ctx.bucket);
      to.searchParams.set('key', allowed.key);
      to.searchParams.set('etag', etag);
      res.writeHead(303, { location: to.toString(), etag, 'content-length': 0 });
      res.end();
    } else if (allowed.successStatus === 201) {
      const body = xmlDocument('PostResponse', { Location: location, Bucket: ctx.bucket, Key: allowed.key, ETag: etag });
      res.writeHead(201, { 'content-type': 'application/xml', etag, location, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(allowed.successStatus, { etag, location, 'content-length': 0 });
      res.end();
    }
    ctx.logger.debug({ key: allowed.key }, 's3 gate: upload stored');
  }
}
