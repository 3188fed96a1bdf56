import type { IncomingMessage } from 'node:http';
import { AppError, DatabaseUnavailableError } from '../lib/errors';

/**
 * The HTTP wire, shared by the fast path in front of Express and by Express itself: how errors
 * become answers, the error body, the client's address, body limits.
 */

/** Request bodies Wharf accepts (release zips go straight to S3). */
export const BODY_LIMITS = {
  /** An update check's form or JSON body. */
  updateCheck: 16 * 1024,
  /** JSON under /api: 1 MB (nginx's client_max_body_size) carries three 100,000-character product fields. */
  json: 1024 * 1024,
  /** Dashboard forms. */
  form: 1024 * 1024,
} as const;

// Connection-level database failures: the request may be retried once the database is back.
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', '25006', '08001', '08004', '08006']);

const INTERNAL = 'Something went wrong on our side. It has been logged.';

/**
 * Any thrown value as the error the client gets. Typed errors pass as they are, also when drizzle
 * wrapped them (DrizzleQueryError keeps the driver's error, or our deadline, as its cause); a
 * database that cannot be reached is a 500 with Retry-After; everything else is a bug: a plain 500.
 */
export function normalizeError(err: unknown): AppError {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AppError) return e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE.has(code)) return new DatabaseUnavailableError();
  }
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string } | null;
  if (e?.type === 'entity.too.large') return payloadTooLarge();
  if (e?.type === 'entity.parse.failed') return invalidJson();
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && e?.expose) return new AppError(status, 'bad_request', e.message ?? 'Bad request');
  return new AppError(500, 'internal_error', INTERNAL);
}

export const payloadTooLarge = () => new AppError(413, 'payload_too_large', 'The request body is too large.');
export const invalidJson = () => new AppError(400, 'invalid_json', 'The request body is not valid JSON.');

/** `{ "error": { "code", "message", fields?, reasons? } }`, the body of every JSON error. */
export function errorBody(e: AppError): string {
  const reasons = (e as { reasons?: unknown }).reasons;
  return JSON.stringify({ error: { code: e.code, message: e.message, ...(e.fields ? { fields: e.fields } : {}), ...(Array.isArray(reasons) ? { reasons } : {}) } });
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

/** `trustProxy` hops are trusted: each appends the address it saw, nginx (the last) the client's. Same as Express's req.ip. */
export function clientIp(req: IncomingMessage, trustProxy: number): string {
  const xff = trustProxy > 0 ? header(req, 'x-forwarded-for', true) : undefined;
  if (typeof xff === 'string' && xff) {
    const hops = xff.split(',').map((s) => s.trim());
    return hops[Math.max(0, hops.length - trustProxy)] ?? req.socket.remoteAddress ?? '';
  }
  return req.socket.remoteAddress ?? '';
}

const REQUEST_ID = /^[\w-]{1,100}$/;

/** nginx's X-Request-Id when it is one, else a fresh id. */
export function requestId(req: IncomingMessage): string {
  const incoming = header(req, 'x-request-id');
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}
