import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../logger';

/** One line per request; the path only, never the query string (it may carry purchase codes). */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && /^[\w-]{1,100}$/.test(incoming) ? incoming : crypto.randomUUID();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const path = req.originalUrl.split('?')[0]!.replace(/\/download\/[^/]+$/, '/download/[token]');
      logger.info({ reqId: req.requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
