import { Router } from 'express';
import { BadRequestError } from '../../lib/errors';
import { assertPlainText } from '../../lib/validation';
import type { Product } from '../../services/products.service';
import type { Version } from '../../services/releases.service';
import type { Services } from '../../services';

export function productJson(p: Product, publicUrl: string) {
  return {
    id: p.id,
    type: p.type,
    slug: p.slug,
    name: p.name,
    homepage: p.homepage,
    author: p.author,
    author_homepage: p.authorHomepage,
    description: p.description,
    installation: p.installation,
    changelog: p.changelog,
    free: p.free,
    live_version_id: p.liveVersionId,
    default_rollout_percent: p.defaultRolloutPercent,
    update_url: `${publicUrl}/api/v1/updates/${p.id}`,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

export function versionJson(v: Version, liveVersionId: string | null) {
  return {
    id: v.id,
    version: v.version,
    live: v.id === liveVersionId && v.status === 'ready',
    // verifying → ready (offered to sites, downloadable) or refused (reasons say why; the zip is deleted).
    status: v.status,
    reasons: v.reasons ?? [],
    size: v.size,
    sha256: v.sha256,
    requires: v.requires,
    tested: v.tested,
    requires_php: v.requiresPhp,
    released_at: v.releasedAt,
    rollout_percent: v.rolloutPercent,
    paused: v.rolloutPaused,
    channel: v.channel,
    pulled: v.pulledAt !== null,
    pulled_at: v.pulledAt,
  };
}

/** The vendor REST API: products, uploads and versions. */
export function productsApi(s: Services, publicUrl: string): Router {
  const r = Router();
  const body = (b: unknown) => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw new BadRequestError('Send a JSON object body.');
    return b as Record<string, unknown>;
  };

  r.get('/products', async (req, res) => {
    const rows = await s.products.list(req.user!.id);
    res.json({ products: rows.map((p) => productJson(p, publicUrl)) });
  });

  r.post('/products', async (req, res) => {
    const p = await s.products.create(req.user!.id, body(req.body));
    res.status(201).json(productJson(p, publicUrl));
  });

  r.get('/products/:id', async (req, res) => {
    res.json(productJson(await s.products.get(req.user!.id, req.params.id), publicUrl));
  });

  r.patch('/products/:id', async (req, res) => {
    const { default_rollout_percent: raw, ...fields } = body(req.body);
    // Both parts are validated before either is written.
    const percent = raw !== undefined ? s.rollouts.parseDefaultPercent(raw) : undefined;
    let product = percent === undefined || Object.keys(fields).length ? await s.products.update(req.user!.id, req.params.id, fields, { partial: true }) : undefined;
    if (percent !== undefined) product = await s.rollouts.setDefaultPercent(req.user!.id, req.params.id, percent);
    res.json(productJson(product!, publicUrl));
  });

  r.delete('/products/:id', async (req, res) => {
    await s.products.delete(req.user!.id, req.params.id);
    res.status(204).end();
  });

  r.post('/products/:id/uploads', async (req, res) => {
    const post = await s.releases.presignUpload(req.user!.id, req.params.id);
    res.status(201).json({ url: post.url, fields: post.fields, key: post.key, expires_at: post.expiresAt, max_bytes: post.maxBytes });
  });

  r.post('/products/:id/versions', async (req, res) => {
    const key = body(req.body).key;
    if (typeof key !== 'string' || !key) throw new BadRequestError('Send the upload key: { "key": "…" }.');
    assertPlainText({ key });
    const v = await s.releases.finalize(req.user!.id, req.params.id, { key });
    const product = await s.products.get(req.user!.id, req.params.id);
    res.status(201).json(versionJson(v, product.liveVersionId));
  });

  r.get('/products/:id/versions', async (req, res) => {
    const { product, versions } = await s.releases.listVersions(req.user!.id, req.params.id);
    res.json({ versions: versions.map((v) => versionJson(v, product.liveVersionId)) });
  });

  r.get('/products/:id/versions/:version', async (req, res) => {
    const { product, version } = await s.releases.findVersion(req.user!.id, req.params.id, req.params.version);
    res.json(versionJson(version, product.liveVersionId));
  });

  // Rollout fields (rollouts.service.ts); other fields of the same PATCH belong to their own services.
  r.patch('/products/:id/versions/:version', async (req, res) => {
    const v = await s.rollouts.updateVersion(req.user!.id, req.params.id, req.params.version, body(req.body));
    const product = await s.products.get(req.user!.id, req.params.id);
    res.json(versionJson(v, product.liveVersionId));
  });

  r.post('/products/:id/versions/:version/live', async (req, res) => {
    const v = await s.releases.setLive(req.user!.id, req.params.id, req.params.version);
    res.json(versionJson(v, v.id));
  });

  r.delete('/products/:id/versions/:version', async (req, res) => {
    await s.releases.deleteVersion(req.user!.id, req.params.id, req.params.version);
    res.status(204).end();
  });

  return r;
}
