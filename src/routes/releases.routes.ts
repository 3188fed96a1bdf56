import { Router, type Request, type Response } from 'express';
import { AppError } from '../lib/errors';
import { PackageRejectedError } from '../services/packages/package-inspector';
import type { Version } from '../services/releases.service';
import type { Services } from '../services';

/** How long the no-JavaScript return from S3 waits for a small zip's verification before showing the product page. */
const COMPLETE_WAIT_MS = 5_000;

const VERIFYING = (v: string) => `Version ${v} uploaded. Wharf is verifying every file in the zip; it is offered to sites once that succeeds.`;

export function versionStatusJson(v: Version) {
  return {
    id: v.id,
    version: v.version,
    status: v.status,
    reasons: v.reasons ?? [],
    progress: v.status === 'verifying' ? Math.min(1, v.verifiedBytes / Math.max(1, v.size)) : 1,
  };
}

export function releaseRoutes(s: Services, publicUrl: string): Router {
  const r = Router();
  const completeUrl = (productId: string) => (uploadId: string) => `${publicUrl}/products/${productId}/uploads/${uploadId}/complete`;

  /** Step one (no upload slot yet) or, with `post`, step two: the form that posts straight to S3. */
  const renderUploadPage = async (req: Request, res: Response, opts: { post?: Awaited<ReturnType<Services['releases']['presignUpload']>>; error?: { message: string; reasons: string[] } } = {}) => {
    const product = await s.products.get(req.user!.id, String(req.params.id));
    res.status(opts.error ? 422 : 200).render('pages/releases/new', {
      title: `Upload a release of ${product.name}`,
      product,
      post: opts.post ?? null,
      maxBytes: s.releases.maxBytes,
      error: opts.error,
    });
  };

  r.get('/products/:id/releases/new', (req, res) => renderUploadPage(req, res));

  // Without JavaScript, starting an upload is an explicit step: only then is an upload slot made.
  r.post('/products/:id/releases/new', async (req, res) => {
    const post = await s.releases.presignUpload(req.user!.id, String(req.params.id), { successRedirect: completeUrl(String(req.params.id)) });
    await renderUploadPage(req, res, { post });
  });

  // The JavaScript path: presign when a file is picked, POST to S3 with a progress bar, finalize, follow verification.
  r.post('/products/:id/uploads', async (req, res) => {
    const post = await s.releases.presignUpload(req.user!.id, req.params.id);
    res.status(201).json({ uploadId: post.uploadId, key: post.key, url: post.url, fields: post.fields, maxBytes: post.maxBytes, expiresAt: post.expiresAt });
  });

  r.post('/products/:id/uploads/:uploadId/finalize', async (req, res) => {
    try {
      const version = await s.releases.finalize(req.user!.id, req.params.id, { uploadId: req.params.uploadId });
      // The page follows verification, then opens the product page, which shows this once.
      res.flash({ kind: 'ok', text: `Version ${version.version} uploaded and checked.` });
      res.status(201).json({
        ...versionStatusJson(version),
        statusUrl: `/products/${req.params.id}/versions/${version.id}/status`,
        redirect: `/products/${req.params.id}`,
      });
    } catch (err) {
      if (err instanceof PackageRejectedError) {
        res.status(422).json({ error: { code: err.code, message: err.message, reasons: err.reasons } });
        return;
      }
      throw err;
    }
  });

  r.get('/products/:id/versions/:versionId/status', async (req, res) => {
    const { version } = await s.releases.findVersion(req.user!.id, req.params.id, req.params.versionId);
    res.set('Cache-Control', 'no-store').json(versionStatusJson(version));
  });

  // S3's success_action_redirect lands here; the unguessable, single-use upload id of the
  // signed-in owner is what makes this GET safe to act on.
  r.get('/products/:id/uploads/:uploadId/complete', async (req, res) => {
    const refused = (reasons: string[]) => renderUploadPage(req, res, { error: { message: 'The upload was refused.', reasons } });
    try {
      const finalized = await s.releases.finalize(req.user!.id, req.params.id, { uploadId: req.params.uploadId });
      const { version } = await s.releases.awaitVerification(req.user!.id, req.params.id, finalized.id, COMPLETE_WAIT_MS);
      if (version.status === 'refused') return refused(version.reasons ?? []);
      res.flash({ kind: 'ok', text: version.status === 'ready' ? `Version ${version.version} uploaded and checked.` : VERIFYING(version.version) });
      res.redirect(303, `/products/${req.params.id}`);
    } catch (err) {
      if (err instanceof AppError && (err.status === 422 || err.status === 410)) {
        await refused(err instanceof PackageRejectedError ? err.reasons : [err.message]);
        return;
      }
      throw err;
    }
  });

  r.post('/products/:id/versions/:versionId/live', async (req, res) => {
    const { version } = await s.releases.findVersion(req.user!.id, req.params.id, req.params.versionId);
    await s.releases.setLive(req.user!.id, req.params.id, req.params.versionId);
    res.flash({ kind: 'ok', text: `Version ${version.version} is now live.` });
    res.redirect(303, `/products/${req.params.id}`);
  });

  r.post('/products/:id/versions/:versionId/delete', async (req, res) => {
    const { version } = await s.releases.findVersion(req.user!.id, req.params.id, req.params.versionId);
    await s.releases.deleteVersion(req.user!.id, req.params.id, req.params.versionId);
    res.flash({ kind: 'ok', text: `Version ${version.version} deleted.` });
    res.redirect(303, `/products/${req.params.id}`);
  });

  return r;
}
