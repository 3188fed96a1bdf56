import { Router, type Request } from 'express';
import { handleForm } from '../http/forms';
import type { Services } from '../services';

export function accountRoutes(s: Services): Router {
  const r = Router();

  // The page's data: API keys, and which providers are linked (Account offers "Link" for the others).
  const page = async (req: Request) => ({
    title: 'Account and API keys',
    keys: await s.users.listApiKeys(req.user!.id),
    oauthLinked: await s.users.linkedProviders(req.user!.id),
    newKey: null as string | null,
    values: {} as Record<string, unknown>,
    errors: {},
  });

  r.get('/account', async (req, res) => {
    res.render('pages/account/show', await page(req));
  });

  r.post('/account/api-keys', async (req, res) => {
    const locals = { ...(await page(req)), values: { name: req.body?.name } };
    await handleForm(res, 'pages/account/show', locals, async () => {
      const created = await s.users.createApiKey(req.user!.id, req.body?.name);
      // Shown once: only its hash is kept.
      res.status(201).render('pages/account/show', { ...(await page(req)), newKey: created.key });
    });
  });

  r.post('/account/api-keys/:id/revoke', async (req, res) => {
    await s.users.revokeApiKey(req.user!.id, req.params.id);
    res.redirect(303, '/account');
  });

  return r;
}
