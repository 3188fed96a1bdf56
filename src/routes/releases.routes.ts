import { Router, type Request, type Response } from 'express';
import { AppError } from '../lib/errors';
import { PackageRejectedError } from '../services/packages/package-inspector';
import type { Services } from '../services';

export function releaseRoutes(s: Services, publicUrl: string): Router {
  const r = Router();
  const completeUrl = (productId: string) => (uploadId: string) => `${publicUrl}/products/${productId}/uploads/${uploadId}/complete`;

  const renderUploadPage = async (req: Request, res: Response, error?: { message: string; reasons: string[] }) => {
    const product = await s.products.get(req.user!.id, String(req.params.id));
    // The no-JavaScript form posts straight to S3, which redirects back to /complete.
    const post = await s.releases.presignUpload(req.user!.id, product.id, { successRedirect: completeUrl(product.id) });
    res.status(error ? 422 : 200).render('pages/releases/new', { title: `Upload a release of ${product.name}`, product, post, error });
  };

  r.get('/products/:id/releases/new', (req, res) => renderUploadPage(req, res));

  // The JavaScript path: presign, POST to S3 with a progress bar, then finalize.
  r.post('/products/:id/uploads', async (req, res) => {
    const post = await s.releases.presignUpload(req.user!.id, req.params.id);
    res.status(201).json({ uploadId: post.uploadId, key: post.key, url: post.url, fields: post.fields, maxBytes: post.maxBytes });
  });

  r.post('/products/:id/uploads/:uploadId/finalize', async (req, res) => {
    try {
      const version = await s.releases.finalize(req.user!.id, req.params.id, { uploadId: req.params.uploadId });
      res.status(201).json({ version: version.version, redirect: `/products/${req.params.id}?notice=released` });
    } catch (err) {
      if (err instanceof PackageRejectedError) {
        res.status(422).json({ error: { code: err.code, message: err.message, reasons: err.reasons } });
        return;
      }
      throw err;
    }
  });

  // S3's success_action_redirect lands here; the unguessable, single-use upload id of the
  // signed-in owner is what makes this GET safe to act on.
  r.get('/products/:id/uploads/:uploadId/complete', async (req, res) => {
    try {
      await s.releases.finalize(req.user!.id, req.params.id, { uploadId: req.params.uploadId });
      res.redirect(303, `/products/${req.params.id}?notice=released`);
    } catch (err) {
      if (err instanceof AppError && err.status === 422) {
        const reasons = err instanceof PackageRejectedError ? err.reasons : [err.message];
        await renderUploadPage(req, res, { message: 'The upload was refused.', reasons });
        return;
      }
      throw err;
    }
  });

  r.post('/products/:id/versions/:versionId/live', async (req, res) => {
    await s.releases.setLive(req.user!.id, req.params.id, req.params.versionId);
    res.redirect(303, `/products/${req.params.id}?notice=live`);
  });

  r.post('/products/:id/versions/:versionId/delete', async (req, res) => {
    await s.releases.deleteVersion(req.user!.id, req.params.id, req.params.versionId);
    res.redirect(303, `/products/${req.params.id}?notice=deleted`);
  });

  return r;
}
