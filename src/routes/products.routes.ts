import { Router } from 'express';
import type { Services } from '../services';
import { handleForm } from '../http/forms';

export function productRoutes(s: Services, publicUrl: string): Router {
  const r = Router();

  r.get('/products', async (req, res) => {
    const [products, summary] = await Promise.all([s.products.list(req.user!.id), s.dashboard.productOverview(req.user!.id)]);
    // Active installs (7 days), downloads (30 days) and a 30-day sparkline per product, from the analytics rollups.
    const overview = await s.analytics.overview(products.map((p) => p.id));
    res.render('pages/products/list', { title: 'Your products', products, overview, summary });
  });

  r.get('/products/new', (_req, res) => {
    res.render('pages/products/new', { title: 'New product', values: { type: 'plugin' }, errors: {} });
  });

  r.post('/products', async (req, res) => {
    await handleForm(res, 'pages/products/new', { title: 'New product', values: req.body ?? {} }, async () => {
      const product = await s.products.create(req.user!.id, req.body);
      res.flash({ kind: 'ok', text: 'Product created. Upload its first release below.' });
      res.redirect(`/products/${product.id}`);
    });
  });

  r.get('/products/:id', async (req, res) => {
    const { product, versions } = await s.releases.listVersions(req.user!.id, req.params.id);
    const texts = await s.content.versionTexts(product.id);
    const rollout = await s.rollouts.siteCounts(product.id, versions);
    res.render('pages/products/show', {
      title: product.name,
      product,
      versions,
      texts,
      rollout,
      // Without JavaScript the page reloads itself while a verification runs.
      refreshSeconds: versions.some((v) => v.status === 'verifying') ? 3 : 0,
      activeSites: await s.dashboard.activeSites(product.id),
      liveVersion: versions.find((v) => v.id === product.liveVersionId)?.version ?? null,
      updateUrl: `${publicUrl}/api/v1/updates/${product.id}`,
      client: s.clientFiles.snippet(product.type, { serverUrl: publicUrl, productId: product.id }),
    });
  });

  r.get('/products/:id/client', async (req, res) => {
    const product = await s.products.get(req.user!.id, req.params.id);
    const file = s.clientFiles.render(product.type, { serverUrl: publicUrl, productId: product.id });
    res.attachment(file.filename).type('application/x-httpd-php').send(file.contents);
  });

  r.get('/products/:id/edit', async (req, res) => {
    const product = await s.products.get(req.user!.id, req.params.id);
    const slugEditable = (await s.releases.listVersions(req.user!.id, product.id)).versions.length === 0;
    res.render('pages/products/edit', { title: `Edit ${product.name}`, product, values: product, errors: {}, slugEditable });
  });

  r.post('/products/:id/edit', async (req, res) => {
    const product = await s.products.get(req.user!.id, req.params.id);
    const values = { ...product, ...req.body, free: req.body?.free === 'on' };
    const slugEditable = (await s.releases.listVersions(req.user!.id, product.id)).versions.length === 0;
    await handleForm(res, 'pages/products/edit', { title: `Edit ${product.name}`, product, values, slugEditable }, async () => {
      await s.products.update(req.user!.id, product.id, { free: '', ...req.body });
      res.flash({ kind: 'ok', text: 'Changes saved.' });
      res.redirect(`/products/${product.id}`);
    });
  });

  r.post('/products/:id/delete', async (req, res) => {
    const product = await s.products.get(req.user!.id, req.params.id);
    await s.products.delete(req.user!.id, product.id);
    res.flash({ kind: 'ok', text: `${product.name} deleted.` });
    res.redirect('/products');
  });

  return r;
}
