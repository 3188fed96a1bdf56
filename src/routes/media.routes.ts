import { Router, type Request, type Response } from 'express';
import { AppError, NotFoundError } from '../lib/errors';
import type { Services } from '../services';
import { isMediaKind } from '../services/media.service';

/** Public: WordPress shows banners and icons from here (a redirect to a short-lived S3 link). */
export function mediaPublicRoutes(s: Services): Router {
  const r = Router();
  r.get('/media/:productId/:file', async (req, res) => {
    const url = await s.media.link(req.params.productId, req.params.file);
    if (!url) throw new NotFoundError('No such image');
    res.set('Cache-Control', 'public, max-age=600').redirect(302, url);
  });
  return r;
}

/** Called by the page's script: errors answer JSON (as finalize does), not an HTML page. */
const asJson = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
  try {
    await fn(req, res);
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } });
  }
};

/** The dashboard's image uploads (JSON, CSRF in the X-CSRF-Token header): presign, then attach once S3 has it. */
export function mediaRoutes(s: Services): Router {
  const r = Router();
  const kindOf = (req: Request) => {
    const kind = req.params.kind;
    if (!isMediaKind(kind)) throw new NotFoundError('No such image kind');
    return kind;
  };
  r.post(
    '/products/:id/media/:kind/presign',
    asJson(async (req, res) => {
      res.status(201).json(await s.media.presign(req.user!.id, String(req.params.id), kindOf(req), req.body?.contentType));
    }),
  );
  r.post(
    '/products/:id/media/:kind',
    asJson(async (req, res) => {
      res.json({ url: await s.media.attach(req.user!.id, String(req.params.id), kindOf(req), req.body?.key) });
    }),
  );
  return r;
}
