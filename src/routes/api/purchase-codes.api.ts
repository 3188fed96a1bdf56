import { Router } from 'express';
import { BadRequestError } from '../../lib/errors';
import type { CodeView } from '../../services/licensing/purchase-codes.service';
import { CODE_EDIT_FIELDS, codeView } from '../../services/licensing/purchase-codes.service';
import type { Services } from '../../services';

export function codeJson(c: CodeView) {
  return {
    id: c.id,
    code: c.display,
    status: c.status,
    expires_at: c.expiresOn,
    max_downloads: c.maxDownloads,
    downloads_used: c.downloadsUsed,
    max_sites: c.maxSites,
    note: c.note,
    customer_email: c.customerEmail,
    customer_name: c.customerName,
    created_at: c.createdAt,
    beta: c.beta,
  };
}

/** Vendor API for purchase codes (behind the API-key middleware). */
export function purchaseCodesApi(s: Services): Router {
  const r = Router();

  r.post('/products/:id/purchase-codes', async (req, res) => {
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : null;
    if (!body) throw new BadRequestError('Send a JSON object body.');
    const { codes } = await s.purchaseCodes.create(req.user!.id, req.params.id, body);
    res.status(201).json({ codes: codes.map(codeJson) });
  });

  r.get('/products/:id/purchase-codes', async (req, res) => {
    const list = await s.purchaseCodes.list(req.user!.id, req.params.id, { search: req.query.search, status: req.query.status, page: req.query.page });
    res.json({ codes: list.codes.map(codeJson), total: list.total, page: list.page, pages: list.pages });
  });

  // Revoke or reinstate, renew (expiresAt, null for never), limits, customer fields: any of them at once.
  r.patch('/purchase-codes/:code', async (req, res) => {
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;
    const revoked = body?.revoked;
    const beta = body?.beta;
    const editing = Boolean(body && CODE_EDIT_FIELDS.some((k) => k in body));
    if ((revoked !== undefined && typeof revoked !== 'boolean') || (beta !== undefined && typeof beta !== 'boolean') || (revoked === undefined && beta === undefined && !editing)) {
      throw new BadRequestError(`Send a JSON object with "revoked" (true or false), "beta" (true or false) and/or any of ${CODE_EDIT_FIELDS.map((k) => `"${k}"`).join(', ')}.`);
    }
    const row = await s.purchaseCodes.findOwned(req.user!.id, req.params.code);
    let updated = codeView(row);
    if (editing) updated = await s.purchaseCodes.edit(req.user!.id, row.productId, row.id, body);
    if (typeof beta === 'boolean') updated = codeView(await s.rollouts.setCodeBeta(req.user!.id, row.productId, row.id, beta));
    if (typeof revoked === 'boolean') updated = await s.purchaseCodes.setRevoked(req.user!.id, row.productId, row.id, revoked);
    res.json(codeJson(updated));
  });

  r.get('/purchase-codes/:code', async (req, res) => {
    res.json(codeJson(codeView(await s.purchaseCodes.findOwned(req.user!.id, req.params.code))));
  });

  return r;
}
