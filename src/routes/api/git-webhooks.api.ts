import express, { Router } from 'express';
import type { Services } from '../../services';

/**
 * `POST /api/v1/webhooks/git/:productId`: GitHub and BitBucket push events. Mounted before the JSON
 * parser: the signature is an HMAC of the raw bytes. Answers at once; the build runs from the job queue.
 */
export function gitWebhooksApi(s: Services): Router {
  const r = Router();
  r.post('/v1/webhooks/git/:productId', express.raw({ type: () => true, limit: '5mb' }), async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await s.repositories.receive({ productId: req.params.productId, rawBody, headers: req.headers });
    switch (outcome.kind) {
      case 'ping':
        res.json({ ok: true });
        return;
      case 'duplicate':
        res.json({ ok: true, duplicate: true });
        return;
      case 'ignored':
        res.json({ ok: true, ignored: outcome.reason });
        return;
      case 'queued':
        res.status(202).json({ ok: true, builds: outcome.builds });
    }
  });
  return r;
}
