import { Router, type Request, type Response } from 'express';
import { handleForm } from '../http/forms';
import { BadRequestError, NotFoundError, ValidationError } from '../lib/errors';
import { isUuid } from '../lib/validation';
import type { Services } from '../services';

const STATUSES = ['active', 'expired', 'exhausted', 'revoked'] as const;
const MAX_BATCH = 1000;
const FORM_FIELDS = ['count', 'expiresAt', 'maxDownloads', 'maxSites', 'note', 'customerEmail', 'customerName'] as const;
const EDIT_FIELDS = ['expiresAt', 'maxDownloads', 'maxSites', 'note', 'customerEmail', 'customerName'] as const;

const NOTICES: Record<string, string> = {
  revoked: 'Code revoked. Sites using it stop receiving updates.',
  reinstated: 'Code reinstated.',
  deactivated: 'Site deactivated; its slot is free again.',
};

/** "2024-05-01 13:45 UTC": the dashboard shows every time in UTC. */
const when = (d: Date | null | undefined): string => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '');

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

// Purchase codes are secrets: keep them out of shared and back/forward caches.
const noStore = (res: Response): Response => res.set('Cache-Control', 'private, no-store');

function formValues(body: unknown, fields: readonly string[] = FORM_FIELDS): Record<string, string> {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return Object.fromEntries(fields.map((k) => [k, text(b[k])]));
}

/** Checkbox values arrive as one string or an array of them. */
const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

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
      if (codes.length === 1) res.flash({ kind: 'ok', text: 'Purchase code created. Copy it and send it to your customer.' });
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

  // Bulk actions on the list: the chosen codes, or (scope=filter) every code matching the list's filter.
  r.post('/products/:id/codes/bulk', async (req, res) => {
    const id = String(req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const filter = { search: text(b.search), status: text(b.status) };
    const ids = listOf(b.ids);
    const target = b.scope === 'filter' ? { filter } : { ids };
    const back = linkTo(`/products/${id}/codes`, filter)();
    if (b.action === 'export') {
      const file = await s.purchaseCodes.bulkCsv(uid(req), id, target);
      noStore(res).attachment(file.filename).type('text/csv; charset=utf-8').send(file.body);
      return;
    }
    if (b.scope !== 'filter' && !ids.length) {
      await s.products.get(uid(req), id); // still a 404 for another vendor's product
      res.flash({ kind: 'error', text: 'Choose the codes first (the boxes in the first column), or apply the action to every code matching the filter.' });
      return res.redirect(303, back);
    }
    if (b.action === 'revoke') {
      const n = await s.purchaseCodes.bulk(uid(req), id, target, { action: 'revoke' });
      res.flash({ kind: 'ok', text: `${plural(n, 'code')} revoked. Sites using them stop receiving updates.` });
    } else if (b.action === 'expiry') {
      const never = b.never === 'on';
      try {
        const n = await s.purchaseCodes.bulk(uid(req), id, target, { action: 'expiry', expiresAt: never ? null : text(b.expiresAt) || '' });
        res.flash({ kind: 'ok', text: never ? `${plural(n, 'code')} now never expire.` : `Expiry of ${plural(n, 'code')} set to ${text(b.expiresAt)}.` });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        res.flash({ kind: 'error', text: `Expiry not changed: ${err.fields?.expiresAt ?? err.message}` });
      }
    } else {
      throw new BadRequestError('Choose an action: revoke, expiry or export.');
    }
    res.redirect(303, back);
  });

  r.get('/products/:id/codes/:codeId/edit', async (req, res) => {
    const { product, code } = await s.purchaseCodes.get(uid(req), req.params.id, req.params.codeId);
    const values = { expiresAt: code.expiresOn ?? '', maxDownloads: code.maxDownloads ?? '', maxSites: code.maxSites ?? '', note: code.note, customerEmail: code.customerEmail, customerName: code.customerName };
    noStore(res).render('pages/codes/edit', { title: `Edit purchase code · ${product.name}`, product, code, values, errors: {} });
  });

  r.post('/products/:id/codes/:codeId/edit', async (req, res) => {
    const { product, code } = await s.purchaseCodes.get(uid(req), req.params.id, req.params.codeId);
    const values = formValues(req.body, EDIT_FIELDS);
    await handleForm(noStore(res), 'pages/codes/edit', { title: `Edit purchase code · ${product.name}`, product, code, values }, async () => {
      await s.purchaseCodes.edit(uid(req), product.id, code.id, values);
      res.flash({ kind: 'ok', text: 'Purchase code saved. Update checks see the change at once.' });
      res.redirect(303, codeUrl(product.id, code.id));
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
      when,
    });
  });

  const setRevoked = (revoked: boolean) => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const codeId = String(req.params.codeId);
    await s.purchaseCodes.setRevoked(uid(req), id, codeId, revoked);
    res.flash({ kind: 'ok', text: NOTICES[revoked ? 'revoked' : 'reinstated']! });
    res.redirect(303, codeUrl(id, codeId));
  };
  r.post('/products/:id/codes/:codeId/revoke', setRevoked(true));
  r.post('/products/:id/codes/:codeId/reinstate', setRevoked(false));

  r.post('/products/:id/codes/:codeId/sites/:siteId/deactivate', async (req, res) => {
    await s.purchaseCodes.deactivateSite(uid(req), req.params.id, req.params.codeId, req.params.siteId);
    res.flash({ kind: 'ok', text: NOTICES.deactivated! });
    res.redirect(303, codeUrl(req.params.id, req.params.codeId));
  });

  return r;
}
