/**
 * The embedded S3's front door. s3rver enforces no policy and lets anyone in, so it listens only on a
 * private loopback port and this gate, on the public port, admits what real S3 would: SigV4-signed
 * requests (header or presigned URL, expiry included) and browser POSTs that satisfy their signed
 * policy. Everything else gets S3's 403. Bodies stream through; nothing is buffered.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import cors from 'cors';
import type { Logger } from '../../../logger';
import { handleBrowserPost } from './browser-post';
import { accessDenied, S3Error, sendS3Error } from './s3-error';
import { verifyHeaderSignature, verifyPresigned, type GateCredentials } from './sigv4';
import { STAGING_PREFIX, type Upstream } from './upstream';

export interface GateOptions {
  bucket: string;
  credentials: GateCredentials;
  /** Origins whose pages may POST uploads from the browser (the Wharf dashboard). */
  corsOrigins: string[];
  upstream: Upstream;
  logger: Logger;
}

// Headers that concern only the hop to s3rver, or CORS, which the gate answers itself.
const HOP_HEADERS = ['origin', 'access-control-request-method', 'access-control-request-headers'];

export function createGateHandler(o: GateOptions): RequestListener {
  const corsMiddleware = cors({ origin: o.corsOrigins, methods: ['GET', 'HEAD', 'POST'], exposedHeaders: ['ETag'], maxAge: 3000 });

  return (req, res) => {
    corsMiddleware(req, res, () => {
      route(req, res).catch((err: unknown) => {
        const e = err instanceof S3Error ? err : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
        if (!(err instanceof S3Error)) o.logger.warn({ err: (err as Error).message }, 's3 gate: request failed');
        else o.logger.debug({ code: e.code, method: req.method, path: req.url?.split('?')[0] }, 's3 gate: refused');
        sendS3Error(res, e, { head: req.method === 'HEAD' });
        req.resume();
      });
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    let decodedPath: string;
    try {
      decodedPath = decodeURIComponent(path);
    } catch {
      throw new S3Error(400, 'InvalidURI', 'Could not parse the specified URI.');
    }
    if (decodedPath.startsWith(`/${o.bucket}/${STAGING_PREFIX}`) || decodedPath.includes(`/${STAGING_PREFIX}`)) throw accessDenied('Access Denied');
    const incoming = { method: req.method ?? 'GET', path, rawQuery, headers: req.headers };

    if (req.headers.authorization !== undefined) {
      const payloadHash = await verifyHeaderSignature(incoming, o.credentials);
      return forward(req, res, /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : null);
    }
    if (/(^|&)X-Amz-Algorithm=/.test(rawQuery)) {
      await verifyPresigned(incoming, o.credentials);
      return forward(req, res, null);
    }
    const isBucketPost = req.method === 'POST' && (path === `/${o.bucket}` || path === `/${o.bucket}/`) && rawQuery === '';
    if (isBucketPost && /^multipart\/form-data/i.test(String(req.headers['content-type'] ?? ''))) {
      return handleBrowserPost(req, res, { bucket: o.bucket, credentials: o.credentials, upstream: o.upstream, logger: o.logger });
    }
    throw accessDenied('Access Denied');
  }

  /** Proxies an authenticated request; a body whose SHA-256 was signed is held back by one chunk until it matches. */
  function forward(req: IncomingMessage, res: ServerResponse, signedBodyHash: string | null): void {
    const headers = { ...req.headers };
    for (const h of HOP_HEADERS) delete headers[h];
    const up = o.upstream.request(req.method ?? 'GET', req.url ?? '/', headers);
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      pipeline(ur, res, () => undefined);
    });
    up.on('error', (err) => {
      o.logger.warn({ err: err.message }, 's3 gate: s3rver unreachable');
      sendS3Error(res, new S3Error(503, 'ServiceUnavailable', 'Please reduce your request rate.'), { close: true });
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    if (!signedBodyHash) {
      req.pipe(up);
      return;
    }
    const hash = createHash('sha256');
    let held: Buffer | null = null;
    const verify = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        const out = held;
        held = chunk;
        done(null, out ?? undefined);
      },
      flush(done) {
        if (hash.digest('hex') !== signedBodyHash) {
          done(new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."));
          return;
        }
        done(null, held ?? undefined);
      },
    });
    pipeline(req, verify, up, (err) => {
      if (err instanceof S3Error) sendS3Error(res, err, { close: true });
    });
  }
}
