import { Router } from 'express';
import { BadRequestError, ValidationError } from '../../lib/errors';
import { assertPlainText } from '../../lib/validation';
import type { Product } from '../../services/products.service';
import type { Version } from '../../services/releases.service';
import type { Services } from '../../services';

const VERSION_TEXT_FIELDS = ['changelog', 'upgrade_notice'] as const;
const VERSION_ROLLOUT_FIELDS = ['rollout_percent', 'paused', 'channel', 'pulled'] as const;

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

  /** The sections the update API shows (the vendor's own HTML, else the live release's readme), as `{ key: html }`. */
  const sectionsJson = async (userId: string, id: string) =>
    Object.fromEntries((await s.content.editableSections(userId, id)).filter((x) => x.html !== '').map((x) => [x.key, x.html]));

  r.get('/products/:id', async (req, res) => {
    const p = await s.products.get(req.user!.id, req.params.id);
    res.json({ ...productJson(p, publicUrl), sections: await sectionsJson(req.user!.id, p.id) });
  });

  r.patch('/products/:id', async (req, res) => {
    const { sections, format, default_rollout_percent: raw, ...fields } = body(req.body);
    const userId = req.user!.id;
    // Sections and the default percentage are checked before anything is written, so a bad part changes nothing.
    if (sections !== undefined) s.content.parseSections({ sections, format });
    const percent = raw !== undefined ? s.rollouts.parseDefaultPercent(raw) : undefined;
    let p = await s.products.get(userId, req.params.id);
    if (Object.keys(fields).length > 0) p = await s.products.update(userId, p.id, fields, { partial: true });
    if (percent !== undefined) p = await s.rollouts.setDefaultPercent(userId, p.id, percent);
    if (sections !== undefined) await s.content.updateSections(userId, p.id, { sections, format });
    res.json({ ...productJson(p, publicUrl), sections: await sectionsJson(userId, p.id) });
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
    const text = (await s.content.versionTexts(product.id)).get(version.id);
    res.json({ ...versionJson(version, product.liveVersionId), changelog: text?.changelog ?? '', upgrade_notice: text?.upgradeNotice ?? '' });
  });

  // One PATCH for a version's own fields: its text (content.service.ts: changelog, upgrade_notice, format) and its
  // rollout (rollouts.service.ts: rollout_percent, paused, channel, pulled). Both parts are checked before either is written.
  r.patch('/products/:id/versions/:version', async (req, res) => {
    const input = body(req.body);
    const userId = req.user!.id;
    const wantsText = VERSION_TEXT_FIELDS.some((k) => k in input);
    const wantsRollout = VERSION_ROLLOUT_FIELDS.some((k) => k in input);
    if (!wantsText && !wantsRollout) {
      throw new ValidationError(`Send any of ${[...VERSION_TEXT_FIELDS, ...VERSION_ROLLOUT_FIELDS].map((k) => `"${k}"`).join(', ')}.`, { _: 'Nothing to change.' });
    }
    if (wantsText) s.content.parseVersionText(input);
    if (wantsRollout) s.rollouts.parseVersionFields(input);
    if (wantsText) await s.content.updateVersionText(userId, req.params.id, req.params.version, input);
    if (wantsRollout) await s.rollouts.updateVersion(userId, req.params.id, req.params.version, input);
    const { product, version } = await s.releases.findVersion(userId, req.params.id, req.params.version);
    const text = (await s.content.versionTexts(product.id)).get(version.id);
    res.json({ ...versionJson(version, product.liveVersionId), changelog: text?.changelog ?? '', upgrade_notice: text?.upgradeNotice ?? '' });
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
