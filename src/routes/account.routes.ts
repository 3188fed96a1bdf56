import { Router } from 'express';
import type { Services } from '../services';

export function accountRoutes(s: Services): Router {
  const r = Router();

  r.get('/account', async (req, res) => {
    const keys = await s.users.listApiKeys(req.user!.id);
    res.render('pages/account/show', { title: 'Account and API keys', keys, newKey: null });
  });

  r.post('/account/api-keys', async (req, res) => {
    const created = await s.users.createApiKey(req.user!.id, String(req.body?.name ?? ''));
    const keys = await s.users.listApiKeys(req.user!.id);
    // Shown once: only its hash is kept.
    res.status(201).render('pages/account/show', { title: 'Account and API keys', keys, newKey: created.key });
  });

  r.post('/account/api-keys/:id/revoke', async (req, res) => {
    await s.users.revokeApiKey(req.user!.id, req.params.id);
    res.redirect(303, '/account');
  });

  return r;
}
