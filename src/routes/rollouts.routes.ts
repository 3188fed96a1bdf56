import { Router } from 'express';
import type { Services } from '../services';

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** Dashboard rollout controls: the product's default percentage, each version's rollout, pulling, a code's beta flag. */
export function rolloutRoutes(s: Services): Router {
  const r = Router();

  r.post('/products/:id/rollout-default', async (req, res) => {
    await s.rollouts.setDefaultPercent(req.user!.id, req.params.id, req.body?.default_rollout_percent);
    res.flash({ kind: 'ok', text: 'Rollout saved. Every app server answers with it within a second.' });
    res.redirect(303, `/products/${req.params.id}#rollouts`);
  });

  // One form per control; each sends only its own field (rollout_percent, paused, channel), "complete" sends both.
  r.post('/products/:id/versions/:versionId/rollout', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const fields = b.complete !== undefined ? { rollout_percent: 100, paused: false } : Object.fromEntries(['rollout_percent', 'paused', 'channel'].filter((k) => k in b).map((k) => [k, b[k]]));
    await s.rollouts.updateVersion(req.user!.id, req.params.id, req.params.versionId, fields);
    res.flash({ kind: 'ok', text: 'Rollout saved. Every app server answers with it within a second.' });
    res.redirect(303, `/products/${req.params.id}#rollouts`);
  });

  // Pulling (and un-pulling) asks first, saying how many sites already run the version.
  r.get('/products/:id/versions/:versionId/pull', async (req, res) => {
    const { product, version, running, sites } = await s.rollouts.versionWithCounts(req.user!.id, req.params.id, req.params.versionId);
    res.set('Cache-Control', 'no-store').render('pages/products/pull', { title: `${version.pulledAt ? 'Restore' : 'Pull'} ${product.name} ${version.version}`, product, version, running, sites });
  });

  r.post('/products/:id/versions/:versionId/pull', async (req, res) => {
    const pulled = text(req.body?.pulled) === 'true';
    await s.rollouts.updateVersion(req.user!.id, req.params.id, req.params.versionId, { pulled });
    res.flash({ kind: 'ok', text: pulled ? 'Version pulled: no site is offered it any more and its downloads stopped. Sites that run it keep it.' : 'Version restored: it is offered again.' });
    res.redirect(303, `/products/${req.params.id}#rollouts`);
  });

  r.post('/products/:id/codes/:codeId/beta', async (req, res) => {
    const beta = text(req.body?.beta) === 'true';
    await s.rollouts.setCodeBeta(req.user!.id, req.params.id, req.params.codeId, beta);
    res.flash({ kind: 'ok', text: beta ? 'Sites using this code now get beta releases.' : 'Sites using this code now get stable releases only.' });
    res.redirect(303, `/products/${req.params.id}/codes/${req.params.codeId}`);
  });

  return r;
}
