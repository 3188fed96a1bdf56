/**
 * Bench helper process: s3rver (the same embedded S3 the app uses on a laptop) plus a counting
 * HTTP proxy in front of it. The app talks to S3 through the proxy, so the bench can tell how many
 * bytes the app read from S3 without any change to the app. Browsers (the bench's uploads) and
 * presigned download URLs go to s3rver directly.
 *
 * The app under measurement (the upload app) gets a proxy of its own; every other app server shares
 * the other one, so reads by other servers (the checksum sweeper) are counted apart.
 * IPC: sends { s3Port, proxyPort, uploadProxyPort } when ready; answers { type: 'counters', proxy:
 * 'upload' | 'shared' } (every exchange since the last reset) and { type: 'reset' }.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Exchange {
  method: string;
  /** The Range header, when the app asked for part of an object. */
  range: string | null;
  status: number;
  /** Response body bytes carried back to the app. */
  bytes: number;
  done: boolean;
}

interface Counters {
  exchanges: Exchange[];
  /** Request body bytes the app sent. */
  bytesIn: number;
}

const fresh = (): Counters => ({ exchanges: [], bytesIn: 0 });

async function main(): Promise<void> {
  const [dir, bucket] = process.argv.slice(2);
  if (!dir || !bucket) throw new Error('usage: s3-host <dir> <bucket>');
  fs.mkdirSync(dir, { recursive: true });
  const { default: S3rver } = await import('s3rver');
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
  const s3Port = ((await s3.run()) as AddressInfo).port;

  // Two proxies, so the bench can tell the app it measures from the other app servers.
  const counters: Record<string, Counters> = { shared: fresh(), upload: fresh() };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = (name: string) =>
    http.createServer((req, res) => {
      const method = req.method ?? 'GET';
      const ex: Exchange = { method, range: typeof req.headers.range === 'string' ? req.headers.range : null, status: 0, bytes: 0, done: false };
      const c = counters[name]!;
      c.exchanges.push(ex);
      req.on('data', (chunk: Buffer) => (c.bytesIn += chunk.length));
      // The Host header is passed through unchanged: it is part of the request's SigV4 signature.
      const up = http.request({ host: '127.0.0.1', port: s3Port, method, path: req.url, headers: req.headers, agent }, (ur) => {
        ex.status = ur.statusCode ?? 502;
        res.writeHead(ex.status, ur.headers);
        ur.on('data', (chunk: Buffer) => (ex.bytes += chunk.length));
        ur.on('end', () => (ex.done = true));
        ur.on('error', () => (ex.done = true));
        ur.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(up);
    });
  const listen = async (server: http.Server) => {
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const sharedProxy = proxy('shared');
  const uploadProxy = proxy('upload');
  const proxyPort = await listen(sharedProxy);
  const uploadProxyPort = await listen(uploadProxy);

  process.on('message', (m: { type: string; proxy?: string }) => {
    if (m.type === 'counters') process.send?.(counters[m.proxy ?? 'upload']);
    else if (m.type === 'reset') {
      counters.shared = fresh();
      counters.upload = fresh();
      process.send?.({ ok: true });
    }
  });
  const stop = () => {
    sharedProxy.close();
    uploadProxy.close();
    void s3.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  process.send?.({ s3Port, proxyPort, uploadProxyPort });
}

main().catch((err) => {
  process.stderr.write(`s3-host: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
