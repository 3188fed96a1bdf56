import { Router } from 'express';
import { BadRequestError } from '../../lib/errors';
import type { Services } from '../../services';
import type { EndpointRow } from '../../db/queries/notifications.queries';
import type { DeliveryView } from '../../services/notifications/notifications.service';

export function endpointJson(e: EndpointRow) {
  return {
    id: e.id,
    kind: e.kind,
    url: e.url,
    events: e.events,
    productIds: e.productIds,
    disabled: e.disabledAt !== null,
    disabledAt: e.disabledAt,
    disabledReason: e.disabledReason,
    consecutiveFailures: e.consecutiveFailures,
    createdAt: e.createdAt,
  };
}

export function deliveryJson(d: DeliveryView) {
  return {
    id: d.id,
    webhookId: `msg_${d.id}`,
    event: d.eventType,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    statusCode: d.lastStatusCode,
    error: d.lastError,
    createdAt: d.createdAt,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    finishedAt: d.finishedAt,
    attemptLog: d.attemptLog.map((a) => ({ attempt: a.attempt, at: a.at, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs, response: a.responseSnippet })),
  };
}

/** Vendor API for notification endpoints (behind the API-key middleware); another vendor's endpoint is a 404. */
export function webhooksApi(s: Services): Router {
  const r = Router();

  r.post('/webhooks', async (req, res) => {
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : null;
    if (!body) throw new BadRequestError('Send a JSON object body.');
    const { endpoint, secret } = await s.notifications.create(req.user!.id, body);
    // The secret is shown this once.
    res.status(201).json({ id: endpoint.id, ...(secret ? { secret } : {}) });
  });

  r.get('/webhooks', async (req, res) => {
    res.json({ webhooks: (await s.notifications.list(req.user!.id)).map(endpointJson) });
  });

  r.get('/webhooks/:id', async (req, res) => {
    res.json(endpointJson(await s.notifications.get(req.user!.id, req.params.id)));
  });

  r.get('/webhooks/:id/deliveries', async (req, res) => {
    const { deliveries } = await s.notifications.deliveries(req.user!.id, req.params.id);
    res.json({ deliveries: deliveries.map(deliveryJson) });
  });

  r.delete('/webhooks/:id', async (req, res) => {
    await s.notifications.remove(req.user!.id, req.params.id);
    res.status(204).end();
  });

  r.post('/webhooks/:id/test', async (req, res) => {
    const d = await s.notifications.sendTest(req.user!.id, req.params.id);
    res.status(202).json({ deliveryId: d.id, webhookId: `msg_${d.id}` });
  });

  r.post('/webhooks/:id/deliveries/:deliveryId/redeliver', async (req, res) => {
    await s.notifications.redeliver(req.user!.id, req.params.id, req.params.deliveryId);
    res.status(202).json({ deliveryId: req.params.deliveryId });
  });

  r.post('/webhooks/:id/enable', async (req, res) => {
    await s.notifications.enable(req.user!.id, req.params.id);
    res.json(endpointJson(await s.notifications.get(req.user!.id, req.params.id)));
  });

  return r;
}
