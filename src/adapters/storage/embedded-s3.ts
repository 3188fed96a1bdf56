import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../logger';

export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

function corsXml(origins: string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('');
  return `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

/**
 * s3rver on a loopback port with data under dir, the bucket and its CORS rules created at start
 * (so a laptop needs no bucket). It enforces no POST policy: our tests check the policy we sign.
 */
export async function startEmbeddedS3(opts: {
  port: number;
  dir: string;
  bucket: string;
  corsOrigins: string[];
  host?: string;
  logger: Logger;
}): Promise<EmbeddedS3> {
  const { default: S3rver } = await import('s3rver');
  fs.mkdirSync(opts.dir, { recursive: true });
  const host = opts.host ?? '127.0.0.1';
  const server = new S3rver({
    port: opts.port,
    address: host,
    directory: opts.dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: [{ name: opts.bucket, configs: [corsXml(opts.corsOrigins)] }],
  } as any);
  const address = (await server.run()) as AddressInfo;
  // Browsers and WordPress reach it as localhost (matches the page's host on a laptop).
  const endpoint = `http://${host === '127.0.0.1' ? 'localhost' : host}:${address.port}`;
  opts.logger.info({ endpoint, dir: opts.dir }, 'storage: embedded S3 (s3rver)');
  return {
    endpoint,
    port: address.port,
    close: () => server.close(),
  };
}
