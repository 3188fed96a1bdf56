import http from 'node:http';
import https from 'node:https';
import { BlockedAddressError, checkLiteralHost, guardedLookup } from './address-guard';

export const RESPONSE_SNIPPET_BYTES = 4096;

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  httpsOnly: boolean;
}

/** What one attempt got: a status (any) or an error, how long it took, and the first 4 KB of the answer. */
export interface SendResult {
  statusCode: number | null;
  error: string | null;
  /** The error cannot get better by retrying (a refused address, a bad URL). */
  errorFinal: boolean;
  durationMs: number;
  snippet: string | null;
  retryAfterMs: number | null;
}

/**
 * One POST with the SSRF guard: http(s) only (https only in production), the connected address
 * checked, no redirects followed (a 3xx is an answer like any other), a deadline on the whole
 * exchange, and at most 4 KB of the body read.
 */
export function sendWebhook(rawUrl: string, body: string, headers: Record<string, string>, opts: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  const fail = (error: string, errorFinal: boolean) => done({ statusCode: null, error, errorFinal, snippet: null, retryAfterMs: null });

  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return Promise.resolve(fail('invalid URL', true));
  }
  if (url.protocol !== 'https:' && (url.protocol !== 'http:' || opts.httpsOnly)) return Promise.resolve(fail(`${url.protocol} URLs are not allowed${opts.httpsOnly ? ' (https only in production)' : ''}`, true));
  try {
    checkLiteralHost(url, opts.allowPrivate);
  } catch (err) {
    return Promise.resolve(fail((err as Error).message, true));
  }

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(opts.allowPrivate) as never,
      headers: { 'content-type': 'application/json', 'user-agent': 'Wharf-Webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(fail(`timed out after ${opts.timeoutMs} ms`, false));
    }, opts.timeoutMs);
    req.on('error', (err) => {
      const blocked = err instanceof BlockedAddressError || (err as NodeJS.ErrnoException).code === 'EBLOCKED';
      finish(fail(err.message || String((err as NodeJS.ErrnoException).code), blocked));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const complete = () => {
        const snippet = Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
        finish(done({ statusCode: res.statusCode ?? null, error: null, errorFinal: false, snippet, retryAfterMs: parseRetryAfter(res.headers['retry-after']) }));
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_SNIPPET_BYTES) complete(); // read no further
      });
      res.on('end', complete);
      res.on('error', complete);
      res.on('close', complete);
    });
    req.end(body);
  });
}

/** `Retry-After`: seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
