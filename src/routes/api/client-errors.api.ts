import express, { Router } from 'express';
import type { Services } from '../../services';
import { CLIENT_ERROR_MAX_BYTES } from '../../services/client-errors.service';

/**
 * `POST /api/v1/client-errors`: what navigator.sendBeacon sends from dashboard pages. No cookie is read and no
 * state changes but a log line, so it needs no CSRF token (a forged report costs one rate-limited log line).
 * Mounted before the app's own body parsers: any content type is read as text, at most 8 KB (413 beyond).
 */
export function clientErrorsApi(s: Services): Router {
  const r = Router();
  r.post('/api/v1/client-errors', express.text({ type: () => true, limit: CLIENT_ERROR_MAX_BYTES }), (req, res) => {
    s.clientErrors.report(req.ip ?? 'unknown', typeof req.body === 'string' ? req.body : '');
    res.status(204).end();
  });
  return r;
}
