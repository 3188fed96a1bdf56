import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AppError } from '../lib/errors';
import type { Logger } from '../logger';
import type { Services } from '../services';

const UPDATES = '/api/v1/updates/';
const DOWNLOAD = '/api/v1/download/';
const MAX_BODY = 16 * 1024;

function send(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  // A flat [name, value, …] list: Node writes it as is, without walking an object.
  const headers = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'Cache-Control', 'no-store'];
  if (extra) for (const [name, value] of Object.entries(extra)) headers.push(name, value);
  res.writeHead(status, headers);
  res.end(body);
}

function sendError(res: ServerResponse, err: AppError): void {
  send(res, err.status, JSON.stringify({ error: { code: err.code, message: err.message } }), err.headers);
}

/**
 * One request header from rawHeaders, as Node's `req.headers` gives it (first value; every value
 * joined with ", " when `all`), without building that object (it parses every header line).
 */
export function header(req: IncomingMessage, name: string, all = false): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    if (!all) return raw[i + 1];
    value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
  }
  return value;
}

/** Exactly one proxy hop is trusted: nginx appends the client address last. */
export function clientIp(req: IncomingMessage, trustProxy: number): string {
  const xff = trustProxy > 0 ? header(req, 'x-forwarded-for', true) : undefined;
  if (typeof xff === 'string' && xff) {
    const hops = xff.split(',').map((s) => s.trim());
    return hops[Math.max(0, hops.length - trustProxy)] ?? req.socket.remoteAddress ?? '';
  }
  return req.socket.remoteAddress ?? '';
}

const tooLarge = () => new AppError(413, 'payload_too_large', 'The request body is too large.');

/**
 * The body's fields. Called once the packets read in this turn of the event loop are parsed, when
 * a small body (it came with the headers) is already buffered whole: it is then taken at once,
 * without a promise or stream events. A body still arriving is read through the stream.
 */
function readBody(req: IncomingMessage): Record<string, string> | Promise<Record<string, string>> {
  if (req.complete) {
    if (req.readableLength > MAX_BODY) throw tooLarge();
    return parseBody(req, (req.read() as Buffer | null) ?? Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit: answer 413 at once, keep draining (so the client reads the answer), give up at 1 MB.
      if (size > MAX_BODY) {
        reject(tooLarge());
        if (size > 1024 * 1024) req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
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
    throw new AppError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A path segment decoded; '' when its percent-encoding is broken (then no product or token matches it). */
const decodeSegment = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
};

const NEEDS_DECODING = /[%+]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Exactly `Object.fromEntries(new URLSearchParams(text))` at a fifth of its cost (both of those are
 * slow); input that decodeURIComponent refuses, or that holds lone surrogates, goes through them.
 */
export function parseForm(text: string): Record<string, string> {
  if (LONE_SURROGATE.test(text)) return Object.fromEntries(new URLSearchParams(text)); // it substitutes U+FFFD
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
          return Object.fromEntries(new URLSearchParams(text));
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

/**
 * The transport for the two URLs WordPress sites hit: update checks and package downloads.
 * They bypass Express's middleware stack (the hot path); the rules stay in the services.
 */
export function fastPath(s: Services, opts: { trustProxy: number; logger: Logger }, next: RequestListener): RequestListener {
  const handleUpdate = async (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    const productId = decodeSegment(path.slice(UPDATES.length)).replace(/\/$/, '');
    const wait = s.apiLimits.updates?.take(clientIp(req, opts.trustProxy)) ?? 0;
    if (wait > 0) return send(res, 429, JSON.stringify({ error: { code: 'rate_limited', message: 'Too many update checks from this address; try again later.' } }), { 'Retry-After': String(Math.ceil(wait)) });
    let fields: Record<string, string | undefined> = parseForm(query);
    if (req.method === 'POST') {
      const read = readBody(req);
      const body = read instanceof Promise ? await read : read;
      fields = query ? Object.assign(fields, body) : body;
    }
    const answer = await s.updates.check({
      productId,
      installedVersion: str(fields.installed_version),
      license: str(fields.license),
      domain: str(fields.domain),
      userAgent: header(req, 'user-agent'),
      php: str(fields.php),
      locale: str(fields.locale),
    });
    send(res, answer.status, answer.body);
  };

  const fail = (res: ServerResponse, path: string, err: unknown) => {
    if (res.headersSent) return res.destroy();
    if (err instanceof AppError) return sendError(res, err);
    opts.logger.error({ err, path }, 'request failed');
    // 500, not 503: see DatabaseUnavailableError (a 503 takes the app server out of nginx).
    sendError(res, new AppError(500, 'unavailable', 'The update server is temporarily unavailable; try again shortly.', undefined, { 'Retry-After': '5' }));
  };

  const runUpdate = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    handleUpdate(req, res, path, query).catch((err: unknown) => fail(res, path, err));
  };

  const handleDownload = async (res: ServerResponse, path: string) => {
    const token = path.slice(DOWNLOAD.length).split('/')[0] ?? '';
    const location = await s.downloads.download(decodeSegment(token));
    res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
  };

  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/api/v1/updates/') && !url.startsWith('/api/v1/download/')) return next(req, res);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (path.startsWith(UPDATES) && (req.method === 'GET' || req.method === 'POST' || req.method === 'HEAD')) {
      // Answered in the check phase, after every packet read in this turn is parsed: the checks
      // that arrived together then run back to back (~30% less CPU per check than interleaving
      // each with its parsing), and a small POST body is already whole. A microtask is too early.
      setImmediate(runUpdate, req, res, path, query);
    } else if (path.startsWith(DOWNLOAD) && (req.method === 'GET' || req.method === 'HEAD')) {
      handleDownload(res, path).catch((err: unknown) => fail(res, DOWNLOAD, err));
    } else {
      send(res, 405, JSON.stringify({ error: { code: 'method_not_allowed', message: `${req.method} is not supported here.` } }), { Allow: path.startsWith(UPDATES) ? 'GET, POST' : 'GET' });
    }
  };
}
