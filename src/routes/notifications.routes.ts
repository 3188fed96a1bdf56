import { Router, type Request } from 'express';
import { handleForm } from '../http/forms';
import type { Services } from '../services';
import { EVENT_TYPES } from '../services/events/event-types';
import { KINDS } from '../services/notifications/notifications.service';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' && v ? [v] : []);

/** The Notifications page: endpoints (add, test, delete, re-enable) and each one's delivery log. */
export function notificationRoutes(s: Services): Router {
  const r = Router();

  const page = async (req: Request) => ({
    title: 'Notifications',
    endpoints: await s.notifications.list(req.user!.id),
    products: await s.products.list(req.user!.id),
    eventTypes: EVENT_TYPES,
    kinds: KINDS,
    newSecret: null as string | null,
    values: { events: [] as string[], productIds: [] as string[] } as Record<string, unknown>,
    errors: {},
  });

  r.get('/notifications', async (req, res) => {
    res.render('pages/notifications/list', await page(req));
  });

  r.post('/notifications', async (req, res) => {
    const input = { url: req.body?.url, kind: req.body?.kind, events: list(req.body?.events), productIds: list(req.body?.productIds) };
    const locals = { ...(await page(req)), values: input };
    await handleForm(res, 'pages/notifications/list', locals, async () => {
      const { secret } = await s.notifications.create(req.user!.id, { ...input, productIds: input.productIds.length ? input.productIds : null });
      // A signing secret is shown once, on this answer; Slack and Discord endpoints have none: back to the list.
      if (secret) res.status(201).render('pages/notifications/list', { ...(await page(req)), newSecret: secret });
      else res.redirect(303, '/notifications');
    });
  });

  r.get('/notifications/:id', async (req, res) => {
    const { endpoint, deliveries } = await s.notifications.deliveries(req.user!.id, req.params.id);
    const products = await s.products.list(req.user!.id);
    res.render('pages/notifications/show', { title: 'Delivery log', endpoint, deliveries, products });
  });

  r.post('/notifications/:id/test', async (req, res) => {
    await s.notifications.sendTest(req.user!.id, req.params.id);
    res.redirect(303, `/notifications/${req.params.id}`);
  });

  r.post('/notifications/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    await s.notifications.redeliver(req.user!.id, req.params.id, req.params.deliveryId);
    res.redirect(303, `/notifications/${req.params.id}`);
  });

  r.post('/notifications/:id/enable', async (req, res) => {
    await s.notifications.enable(req.user!.id, req.params.id);
    res.redirect(303, `/notifications/${req.params.id}`);
  });

  r.post('/notifications/:id/delete', async (req, res) => {
    await s.notifications.remove(req.user!.id, req.params.id);
    res.redirect(303, '/notifications');
  });

  return r;
}
