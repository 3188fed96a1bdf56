import { Router } from 'express';
import type { Services } from '../services';
import { handleForm } from '../http/forms';

const NOTICES: Record<string, string> = {
  created: 'Product created. Upload its first release below.',
  saved: 'Changes saved.',
  released: 'Release uploaded and checked.',
  verifying: 'Release uploaded. Wharf is verifying every file in the zip; it is offered to sites once that succeeds.',
  live: 'Live version changed.',
  deleted: 'Version deleted.',
  rollout: 'Rollout saved. Every app server answers with it within a second.',
  pulled: 'Version pulled: no site is offered it any more and its downloads stopped. Sites that run it keep it.',
  restored: 'Version restored: it is offered again.',
};

export function productRoutes(s: Services, publicUrl: string): Router {
  const r = Router();

  r.get('/products', async (req, res) => {
    const products = await s.products.list(req.user!.id);
    res.render('pages/products/list', { title: 'Your products', products });
  });

  r.get('/products/new', (_req, res) => {
    res.render('pages/products/new', { title: 'New product', values: { type: 'plugin' }, errors: {} });
  });

  r.post('/products', async (req, res) => {
    await handleForm(res, 'pages/products/new', { title: 'New product', values: req.body ?? {} }, async () => {
      const product = await s.products.create(req.user!.id, req.body);
      res.redirect(`/products/${product.id}?notice=created`);
    });
  });

  r.get('/products/:id', async (req, res) => {
    const { product, versions } = await s.releases.listVersions(req.user!.id, req.params.id);
    const notice = NOTICES[String(req.query.notice ?? '')];
    const rollout = await s.rollouts.siteCounts(product.id, versions);
    res.render('pages/products/show', {
      title: product.name,
      product,
      versions,
      rollout,
      // Without JavaScript the page reloads itself while a verification runs.
      refreshSeconds: versions.some((v) => v.status === 'verifying') ? 3 : 0,
      notice,
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
    res.render('pages/products/edit', { title: `Edit ${product.name}`, product, values: product, errors: {} });
  });

  r.post('/products/:id/edit', async (req, res) => {
    const product = await s.products.get(req.user!.id, req.params.id);
    const values = { ...product, ...req.body, free: req.body?.free === 'on' };
    await handleForm(res, 'pages/products/edit', { title: `Edit ${product.name}`, product, values }, async () => {
      await s.products.update(req.user!.id, product.id, { free: '', ...req.body });
      res.redirect(`/products/${product.id}?notice=saved`);
    });
  });

  r.post('/products/:id/delete', async (req, res) => {
    await s.products.delete(req.user!.id, req.params.id);
    res.redirect('/products');
  });

  return r;
}
