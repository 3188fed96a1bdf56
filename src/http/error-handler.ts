import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { NotFoundError } from '../lib/errors';
import type { Logger } from '../logger';
import { errorBody, normalizeError } from './wire';
import { logPath } from './wire-log';

export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path === '/api';
}

export const notFound: RequestHandler = (_req, _res, next) => next(new NotFoundError('Page not found'));

/** The one error handler: JSON under /api, an HTML page everywhere else; the wire decides the status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = normalizeError(err);
    if (e.status >= 500) logger.error({ err, reqId: req.requestId, path: logPath(req.originalUrl) }, 'request failed');
    if (res.headersSent) return res.end();
    if (e.headers) res.set(e.headers);
    res.status(e.status);
    if (wantsJson(req)) {
      res.type('application/json').send(errorBody(e));
      return;
    }
    res.render('errors/error', { status: e.status, code: e.code, message: e.message, title: `Error ${e.status}` });
  };
}
