import type { RequestHandler } from 'express';
import type { Logger } from '../../logger';
import { requestId } from '../wire';
import { accessLine } from '../wire-log';

/** One line per request, as the fast path writes it (path only, codes and tokens replaced). */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const reqId = (req.requestId = requestId(req));
    res.on('finish', () => accessLine(logger, { reqId, method: req.method, path: req.originalUrl, status: res.statusCode, ms: performance.now() - started }));
    next();
  };
}
