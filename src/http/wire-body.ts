import type { IncomingMessage } from 'node:http';
import { header, invalidJson, payloadTooLarge } from './wire';

/** Past the limit the answer is 413 at once; the rest is still read (so the client sees it) up to this much. */
const DRAIN_LIMIT = 1024 * 1024;

/**
 * The body's fields. Called once the packets read in this turn of the event loop are parsed, when
 * a small body (it came with the headers) is already buffered whole: it is then taken at once,
 * without a promise or stream events. A body still arriving is read through the stream.
 */
export function readBody(req: IncomingMessage, limit: number): Record<string, string> | Promise<Record<string, string>> {
  if (req.complete) {
    if (req.readableLength > limit) throw payloadTooLarge();
    return parseBody(req, (req.read() as Buffer | null) ?? Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(payloadTooLarge());
        if (size > DRAIN_LIMIT) req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > limit) return;
      try {
        resolve(parseBody(req, Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function parseBody(req: IncomingMessage, body: Buffer): Record<string, string> {
  const text = body.toString('utf8');
  if (!(header(req, 'content-type') ?? '').includes('json')) return parseForm(text);
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string' || typeof v === 'number').map(([k, v]) => [k, String(v)]));
  } catch {
    throw invalidJson();
  }
}

const NEEDS_DECODING = /[%+]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Exactly `Object.fromEntries(new URLSearchParams(text))` at a fifth of its cost (both of those are
 * slow); input that decodeURIComponent refuses, or that holds lone surrogates, goes through them.
 */
export function parseForm(input: string): Record<string, string> {
  const text = input.charCodeAt(0) === 63 ? input.slice(1) : input; // URLSearchParams drops one leading "?"
  if (LONE_SURROGATE.test(text)) return Object.fromEntries(new URLSearchParams(input)); // it substitutes U+FFFD
  const decode = NEEDS_DECODING.test(text);
  const out: Record<string, string> = {};
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const split = eq !== -1 && eq < end;
      let name = text.slice(start, split ? eq : end);
      let value = split ? text.slice(eq + 1, end) : '';
      if (decode) {
        try {
          if (NEEDS_DECODING.test(name)) name = decodeURIComponent(name.replace(/\+/g, ' '));
          if (NEEDS_DECODING.test(value)) value = decodeURIComponent(value.replace(/\+/g, ' '));
        } catch {
          return Object.fromEntries(new URLSearchParams(input));
        }
      }
      // An own property, as Object.fromEntries makes, even for "__proto__".
      if (name === '__proto__') Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
      else out[name] = value;
    }
    start = end + 1;
  }
  return out;
}
