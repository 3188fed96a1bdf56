import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { AppError, DatabaseUnavailableError, NotFoundError } from '../lib/errors';
import type { Logger } from '../logger';

export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path === '/api';
}

export const notFound: RequestHandler = (_req, _res, next) => next(new NotFoundError('Page not found'));

/** Translate body-parser and other framework errors into our typed errors. */
// Connection-level database failures: the request may be retried once the database is back.
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P02', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57P01', '57P03', '25006', '08001', '08004', '08006']);

function normalise(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // drizzle wraps driver errors (and our deadline) in DrizzleQueryError: look at the cause.
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof AppError) return cause;
  const code = (cause as { code?: string })?.code ?? (err as { code?: string })?.code;
  if (code && UNAVAILABLE.has(code)) return new DatabaseUnavailableError();
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  const status = e?.status ?? e?.statusCode;
  if (e?.type === 'entity.too.large') return new AppError(413, 'payload_too_large', 'The request body is too large.');
  if (e?.type === 'entity.parse.failed') return new AppError(400, 'invalid_json', 'The request body is not valid JSON.');
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) return new AppError(status, 'bad_request', e.message ?? 'Bad request');
  return new AppError(500, 'internal_error', 'Something went wrong on our side. It has been logged.');
}

/** The one error handler: JSON under /api, an HTML page everywhere else. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = normalise(err);
    if (e.status >= 500) logger.error({ err, reqId: req.requestId, path: req.path }, 'request failed');
    if (res.headersSent) return res.end();
    if (e.headers) res.set(e.headers);
    res.status(e.status);
    if (wantsJson(req)) {
      const reasons = (e as { reasons?: unknown }).reasons;
      res.json({ error: { code: e.code, message: e.message, ...(e.fields ? { fields: e.fields } : {}), ...(Array.isArray(reasons) ? { reasons } : {}) } });
      return;
    }
    res.render('errors/error', { status: e.status, code: e.code, message: e.message, title: `Error ${e.status}` });
  };
}
