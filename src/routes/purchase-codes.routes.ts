import { Router, type Request, type Response } from 'express';
import { handleForm } from '../http/forms';
import { NotFoundError } from '../lib/errors';
import { isUuid } from '../lib/validation';
import type { Services } from '../services';

const STATUSES = ['active', 'expired', 'exhausted', 'revoked'] as const;
const MAX_BATCH = 1000;
const FORM_FIELDS = ['count', 'expiresAt', 'maxDownloads', 'maxSites', 'note'] as const;

const NOTICES: Record<string, string> = {
  revoked: 'Code revoked. Sites using it stop receiving updates.',
  beta: 'Sites using this code now get beta releases.',
  stable: 'Sites using this code now get stable releases only.',
  reinstated: 'Code reinstated.',
  deactivated: 'Site deactivated; its slot is free again.',
};

/** "2024-05-01 13:45 UTC": the dashboard shows every time in UTC. */
const when = (d: Date | null | undefined): string => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '');

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

// Purchase codes are secrets: keep them out of shared and back/forward caches.
const noStore = (res: Response): Response => res.set('Cache-Control', 'private, no-store');

function formValues(body: unknown): Record<string, string> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return Object.fromEntries(FORM_FIELDS.map((k) => [k, text(b[k])]));
}

/** Links that keep the current search and status filter. */
function linkTo(base: string, filter: { search: string; status: string }) {
  return (change: { search?: string; status?: string; page?: number } = {}) => {
    const q = new URLSearchParams();
    const search = change.search ?? filter.search;
    const status = change.status ?? filter.status;
    if (search) q.set('search', search);
    if (status) q.set('status', status);
    if (change.page && change.page > 1) q.set('page', String(change.page));
    const qs = q.toString();
    return qs ? `${base}?${qs}` : base;
  };
}

export function purchaseCodeRoutes(s: Services): Router {
  const r = Router();
  const uid = (req: Request) => req.user!.id;
  const codeUrl = (productId: string, codeId: string) => `/products/${productId}/codes/${codeId}`;

  r.get('/products/:id/codes', async (req, res) => {
    const list = await s.purchaseCodes.list(uid(req), req.params.id, { search: req.query.search, status: req.query.status, page: req.query.page });
    const filter = { search: list.search, status: list.status };
    noStore(res).render('pages/codes/list', {
      title: `Purchase codes · ${list.product.name}`,
      ...list,
      statuses: STATUSES,
      link: linkTo(`/products/${list.product.id}/codes`, filter),
      csvUrl: linkTo(`/products/${list.product.id}/codes.csv`, filter)(),
      when,
    });
  });

  r.get('/products/:id/codes.csv', async (req, res) => {
    const file = await s.purchaseCodes.csv(uid(req), req.params.id, { search: req.query.search, status: req.query.status, batch: req.query.batch });
    noStore(res).attachment(file.filename).type('text/csv; charset=utf-8').send(file.body);
  });

  r.get('/products/:id/codes/new', async (req, res) => {
    const product = await s.products.get(uid(req), req.params.id);
    res.render('pages/codes/new', { title: `New purchase codes · ${product.name}`, product, values: { count: '1' }, errors: {}, maxBatch: MAX_BATCH });
  });

  r.post('/products/:id/codes', async (req, res) => {
    const product = await s.products.get(uid(req), req.params.id);
    const values = formValues(req.body);
    const locals = { title: `New purchase codes · ${product.name}`, product, values, maxBatch: MAX_BATCH };
    await handleForm(res, 'pages/codes/new', locals, async () => {
      const { batchId, codes } = await s.purchaseCodes.create(uid(req), product.id, values);
      // Redirect after POST, so reloading the result page never issues a second batch.
      res.redirect(303, codes.length === 1 ? codeUrl(product.id, codes[0]!.id) : `/products/${product.id}/codes/batches/${batchId}`);
    });
  });

  r.get('/products/:id/codes/batches/:batchId', async (req, res) => {
    // The service ignores a malformed batch id, which would list every code: refuse it here.
    if (!isUuid(req.params.batchId)) throw new NotFoundError('No such batch of codes');
    const list = await s.purchaseCodes.list(uid(req), req.params.id, { batch: req.params.batchId, limit: MAX_BATCH });
    if (!list.codes.length) throw new NotFoundError('No such batch of codes');
    noStore(res).render('pages/codes/created', {
      title: `${list.total} new purchase codes · ${list.product.name}`,
      product: list.product,
      codes: list.codes,
      csvUrl: `/products/${list.product.id}/codes.csv?batch=${encodeURIComponent(req.params.batchId)}`,
    });
  });

  r.get('/products/:id/codes/:codeId', async (req, res) => {
    const { product, code, sites, downloads } = await s.purchaseCodes.get(uid(req), req.params.id, req.params.codeId);
    const sitesUsed = sites.filter((site) => site.active && site.countsTowardLimit).length;
    noStore(res).render('pages/codes/show', {
      title: `Purchase code · ${product.name}`,
      product,
      code,
      sites,
      downloads,
      sitesUsed,
      notice: NOTICES[text(req.query.notice)],
      when,
    });
  });

  const setRevoked = (revoked: boolean) => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const codeId = String(req.params.codeId);
    await s.purchaseCodes.setRevoked(uid(req), id, codeId, revoked);
    res.redirect(303, `${codeUrl(id, codeId)}?notice=${revoked ? 'revoked' : 'reinstated'}`);
  };
  r.post('/products/:id/codes/:codeId/revoke', setRevoked(true));
  r.post('/products/:id/codes/:codeId/reinstate', setRevoked(false));

  r.post('/products/:id/codes/:codeId/sites/:siteId/deactivate', async (req, res) => {
    await s.purchaseCodes.deactivateSite(uid(req), req.params.id, req.params.codeId, req.params.siteId);
    res.redirect(303, `${codeUrl(req.params.id, req.params.codeId)}?notice=deactivated`);
  });

  return r;
}
