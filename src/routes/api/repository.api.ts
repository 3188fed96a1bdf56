import { Router } from 'express';
import { BadRequestError, NotFoundError } from '../../lib/errors';
import type { Services } from '../../services';

export function buildJson(b: Awaited<ReturnType<Services['repositories']['listBuilds']>>['builds'][number]) {
  return {
    id: b.id,
    provider: b.provider,
    repository: b.repository,
    ref: b.ref,
    commit: b.commitSha,
    status: b.status,
    reasons: b.reasons,
    version: b.version,
    attempts: b.attempts,
    created_at: b.createdAt,
    started_at: b.startedAt,
    finished_at: b.finishedAt,
    duration_ms: b.startedAt && b.finishedAt ? b.finishedAt.getTime() - b.startedAt.getTime() : null,
    log: b.log,
  };
}

/** A product's repository connection and its builds (vendor API; the token is never returned). */
export function repositoryApi(s: Services): Router {
  const r = Router();

  r.put('/products/:id/repository', async (req, res) => {
    const b = req.body as unknown;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw new BadRequestError('Send a JSON object body.');
    const c = await s.repositories.connect(req.user!.id, req.params.id, b as Record<string, unknown>);
    res.json({ provider: c.provider, repository: c.repository, rule: c.rule, webhook_url: c.webhook_url, webhook_secret: c.webhook_secret, hook_created: c.hook_created });
  });

  r.get('/products/:id/repository', async (req, res) => {
    const c = await s.repositories.get(req.user!.id, req.params.id);
    if (!c) throw new NotFoundError('This product is not connected to a repository.');
    res.json({ provider: c.provider, repository: c.repository, rule: c.rule, webhook_url: c.webhook_url, hook_created: c.hook_created });
  });

  r.delete('/products/:id/repository', async (req, res) => {
    await s.repositories.disconnect(req.user!.id, req.params.id);
    res.status(204).end();
  });

  r.get('/products/:id/repository/choices', async (req, res) => {
    const list = await s.repositories.listRepositories(req.user!.id, req.params.id, req.query.provider, { refresh: req.query.refresh === '1' });
    res.json({ repositories: list.repositories, from_cache: list.fromCache });
  });

  r.get('/products/:id/builds', async (req, res) => {
    const { builds } = await s.repositories.listBuilds(req.user!.id, req.params.id);
    res.json({ builds: builds.map(buildJson) });
  });

  return r;
}
