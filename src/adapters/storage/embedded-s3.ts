import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../logger';
import { createGateHandler } from './s3-gate/gate';
import { Upstream } from './s3-gate/upstream';

export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * s3rver with data under dir, the bucket created at start (so a laptop needs no bucket), behind the
 * gate (src/adapters/storage/s3-gate): s3rver listens on a private loopback port, the gate on `port`,
 * and only requests real S3 would accept get through.
 */
export async function startEmbeddedS3(opts: {
  port: number;
  dir: string;
  bucket: string;
  corsOrigins: string[];
  host?: string;
  region?: string;
  logger: Logger;
}): Promise<EmbeddedS3> {
  const { default: S3rver } = await import('s3rver');
  fs.mkdirSync(opts.dir, { recursive: true });
  const host = opts.host ?? '127.0.0.1';
  const s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory: opts.dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: opts.bucket, configs: [] }],
  } as any);
  const inner = (await s3rver.run()) as AddressInfo;
  const upstream = new Upstream(inner.port, opts.bucket);
  const gate = http.createServer(
    createGateHandler({
      bucket: opts.bucket,
      credentials: { ...EMBEDDED_S3_CREDENTIALS, region: opts.region ?? 'us-east-1' },
      corsOrigins: opts.corsOrigins,
      upstream,
      logger: opts.logger,
    }),
  );
  // A large upload over a slow link may take longer than Node's default 5-minute request timeout.
  gate.requestTimeout = 0;
  gate.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      gate.once('error', reject);
      gate.listen(opts.port, host, () => resolve());
    });
    const stale = await upstream.removeStaleStaging();
    if (stale) opts.logger.info({ stale }, 'storage: removed staging objects an interrupted upload left behind');
  } catch (err) {
    upstream.close();
    await s3rver.close();
    throw err;
  }
  const port = (gate.address() as AddressInfo).port;
  // Browsers and WordPress reach it as localhost (matches the page's host on a laptop).
  const endpoint = `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  opts.logger.info({ endpoint, dir: opts.dir }, 'storage: embedded S3 (s3rver behind a SigV4 and POST-policy gate)');
  return {
    endpoint,
    port,
    close: async () => {
      gate.closeAllConnections();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
      upstream.close();
      await s3rver.close();
    },
  };
}
