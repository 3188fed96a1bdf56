import { Router } from 'express';
import type { Database } from '../db/client';
import type { Storage } from '../adapters/storage/storage';
import { withDeadline } from '../db/query-timeout';

export interface Readiness {
  draining: boolean;
}

export function healthRoutes(database: Database, storage: Storage, state: Readiness): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // nginx and the deploy script stop sending traffic as soon as this says 503.
  r.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    if (state.draining) checks.server = 'draining';
    await Promise.all([
      withDeadline(database.ping(), 2000).then(() => (checks.database = 'ok'), (err: Error) => (checks.database = `error: ${err.message}`)),
      withDeadline(storage.ping(), 2000).then(() => (checks.storage = 'ok'), (err: Error) => (checks.storage = `error: ${err.message}`)),
    ]);
    const ready = !state.draining && checks.database === 'ok' && checks.storage === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return r;
}
