/** The gate's own calls to s3rver on its private loopback port (anonymous there: only the gate can reach it). */
import crypto from 'node:crypto';
import http from 'node:http';

/**
 * Uploads land here first and reach their key by a copy, so a refused or broken upload never replaces an object.
 * A name prefix, not a folder: s3rver removes a folder when its last object goes, racing the next upload's write into it (a 500).
 */
export const STAGING_PREFIX = '.wharf-gate-staging-';

const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export class Upstream {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    readonly port: number,
    readonly bucket: string,
  ) {}

  request(method: string, path: string, headers: http.OutgoingHttpHeaders = {}): http.ClientRequest {
    return http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent });
  }

  /** Sends a small request and collects the answer. */
  async call(method: string, key: string, headers: http.OutgoingHttpHeaders = {}, query = ''): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, `/${this.bucket}/${encodeKey(key)}${query}`, headers);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  stagingKey(): string {
    return `${STAGING_PREFIX}${crypto.randomUUID()}`;
  }

  /** A chunked PUT of the staging object; the caller writes the body and ends it. */
  putStaging(key: string, contentType: string | undefined): { req: http.ClientRequest; done: Promise<{ status: number; etag: string | undefined }> } {
    const req = this.request('PUT', `/${this.bucket}/${encodeKey(key)}`, { 'transfer-encoding': 'chunked', 'content-type': contentType ?? 'binary/octet-stream' });
    const done = new Promise<{ status: number; etag: string | undefined }>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: typeof res.headers.etag === 'string' ? res.headers.etag : undefined }));
      });
      req.on('error', reject);
    });
    return { req, done };
  }

  async copy(from: string, to: string, contentType: string | undefined): Promise<void> {
    const r = await this.call('PUT', to, {
      'x-amz-copy-source': encodeURI(`/${this.bucket}/${from}`),
      'x-amz-metadata-directive': 'REPLACE',
      'content-type': contentType ?? 'binary/octet-stream',
    });
    if (r.status !== 200) throw new Error(`s3rver copy answered ${r.status}`);
  }

  async delete(key: string): Promise<void> {
    const r = await this.call('DELETE', key);
    if (r.status !== 204 && r.status !== 404) throw new Error(`s3rver delete answered ${r.status}`);
  }

  /** Staging objects a crash left behind. */
  async removeStaleStaging(): Promise<number> {
    const r = await new Promise<string>((resolve, reject) => {
      const req = this.request('GET', `/${this.bucket}?prefix=${encodeURIComponent(STAGING_PREFIX)}&max-keys=1000`);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      });
      req.on('error', reject);
      req.end();
    });
    const keys = [...r.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!).filter((k) => k.startsWith(STAGING_PREFIX));
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  close(): void {
    this.agent.destroy();
  }
}
