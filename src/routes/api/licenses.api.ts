import { Router, type RequestHandler } from 'express';
import { BadRequestError, RateLimitedError } from '../../lib/errors';
import type { Services } from '../../services';

/** The license API: public, rate limited per IP so codes cannot be brute-forced. */
export function licensesApi(s: Services): Router {
  const r = Router();
  const limit: RequestHandler = (req, _res, next) => {
    const wait = s.apiLimits.licenses?.take(`lic:${req.ip}`) ?? 0;
    next(wait > 0 ? new RateLimitedError(wait, 'Too many license requests from this address; try again later.') : undefined);
  };
  const input = (body: unknown) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('Send a JSON object: { "productId", "license", "domain" }.');
    const b = body as Record<string, unknown>;
    return { productId: b.productId, license: b.license, domain: b.domain };
  };
  r.post('/licenses/check', limit, async (req, res) => {
    res.json(await s.licenses.check(input(req.body)));
  });
  r.post('/licenses/activate', limit, async (req, res) => {
    res.json(await s.licenses.activate(input(req.body)));
  });
  r.post('/licenses/deactivate', limit, async (req, res) => {
    res.json(await s.licenses.deactivate(input(req.body)));
  });
  return r;
}
