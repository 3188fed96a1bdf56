import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AppError, RateLimitedError } from '../lib/errors';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { BODY_LIMITS, clientIp, errorBody, header, normalizeError, requestId } from './wire';
import { readBody, parseForm } from './wire-body';
import { accessLine, AccessSummary, logPath } from './wire-log';

const UPDATES = '/api/v1/updates/';
const DOWNLOAD = '/api/v1/download/';
const JSON_TYPE = 'application/json; charset=utf-8';

function send(res: ServerResponse, status: number, body: string, extra?: Record<string, string>): void {
  // A flat [name, value, …] list: Node writes it as is, without walking an object.
  const headers = ['Content-Type', JSON_TYPE, 'Content-Length', String(Buffer.byteLength(body)), 'Cache-Control', 'no-store'];
  if (extra) for (const name in extra) headers.push(name, extra[name]!);
  res.writeHead(status, headers);
  res.end(body);
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

/**
 * The transport for the two URLs WordPress sites hit: update checks and package downloads.
 * They bypass Express's middleware stack (the hot path); the rules stay in the services, the
 * wire (errors, addresses, limits, logging) is the one Express uses too.
 */
/** The request listener, and close(): the access summary's last interval is logged, not lost, at shutdown. */
export type RequestHandler = RequestListener & { close(): void };

export function fastPath(s: Services, opts: { trustProxy: number; logger: Logger }, next: RequestListener): RequestHandler {
  const { logger } = opts;
  const summary = new AccessSummary(logger);

  /** Errors answer as Express's error handler would; bugs and outages are logged with the request. */
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): number => {
    const e = normalizeError(err);
    if (e.status >= 500) logger.error({ err, reqId: requestId(req), path: logPath(req.url ?? '/') }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return e.status;
    }
    send(res, e.status, errorBody(e), e.headers);
    return e.status;
  };

  const handleUpdate = async (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    const productId = decodeSegment(path.slice(UPDATES.length)).replace(/\/$/, '');
    const wait = s.apiLimits.updates?.take(clientIp(req, opts.trustProxy)) ?? 0;
    if (wait > 0) throw new RateLimitedError(wait, 'Too many update checks from this address; try again later.');
    let fields: Record<string, string | undefined> = parseForm(query);
    if (req.method === 'POST') {
      const read = readBody(req, BODY_LIMITS.updateCheck);
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
      channel: str(fields.channel),
    });
    send(res, 200, answer);
  };

  const runUpdate = (req: IncomingMessage, res: ServerResponse, path: string, query: string, started: number) => {
    handleUpdate(req, res, path, query).then(
      () => summary.count('update-check', 200, performance.now() - started),
      (err: unknown) => summary.count('update-check', fail(req, res, err), performance.now() - started),
    );
  };

  const handleDownload = async (req: IncomingMessage, res: ServerResponse, path: string, started: number) => {
    let status = 302;
    try {
      const token = path.slice(DOWNLOAD.length).split('/')[0] ?? '';
      const location = await s.downloads.download(decodeSegment(token));
      res.writeHead(302, ['Location', location, 'Cache-Control', 'no-store', 'Content-Length', '0']);
      res.end();
    } catch (err) {
      status = fail(req, res, err);
    }
    // Each download is an event a vendor may ask about: a line each (a few thousand a second at most).
    accessLine(logger, { reqId: requestId(req), method: req.method ?? 'GET', path, status, ms: performance.now() - started });
  };

  const listener: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(UPDATES) && !url.startsWith(DOWNLOAD)) return next(req, res);
    const started = performance.now();
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (path.startsWith(UPDATES) && (req.method === 'GET' || req.method === 'POST' || req.method === 'HEAD')) {
      // Answered in the check phase, after every packet read in this turn is parsed: the checks
      // that arrived together then run back to back (~30% less CPU per check than interleaving
      // each with its parsing), and a small POST body is already whole. A microtask is too early.
      setImmediate(runUpdate, req, res, path, query, started);
    } else if (path.startsWith(DOWNLOAD) && (req.method === 'GET' || req.method === 'HEAD')) {
      void handleDownload(req, res, path, started);
    } else {
      const allow = path.startsWith(UPDATES) ? 'GET, POST' : 'GET';
      fail(req, res, new AppError(405, 'method_not_allowed', `${req.method} is not supported here.`, undefined, { Allow: allow }));
    }
  };
  return Object.assign(listener, { close: () => summary.stop() });
}
