import { Router, type Response } from 'express';
import { parseDays } from '../services/analytics/analytics.service';
import type { Services } from '../services';

const noStore = (res: Response): Response => res.set('Cache-Control', 'private, no-store');
const WINDOWS = [7, 30, 90];
const text = (v: unknown) => (typeof v === 'string' ? v : '');
const pageOf = (v: unknown) => (typeof v === 'string' && /^\d{1,6}$/.test(v) ? Math.max(1, Number(v)) : 1);

/** The analytics page of one product (charts with their numbers as tables), its sites CSV and site erasure. */
export function analyticsRoutes(s: Services): Router {
  const r = Router();

  r.get('/products/:id/analytics', async (req, res) => {
    const days = parseDays(req.query.days);
    const search = text(req.query.search).trim();
    const [report, sites, product] = await Promise.all([
      s.analytics.report(req.user!.id, req.params.id, days),
      s.analytics.sites(req.user!.id, req.params.id, { days, search, page: pageOf(req.query.page), perPage: 50 }),
      s.products.get(req.user!.id, req.params.id),
    ]);
    noStore(res).render('pages/analytics/show', {
      title: `Analytics · ${product.name}`,
      product,
      report,
      sites,
      windows: WINDOWS,
      scripts: ['chart.umd.min.js', 'analytics.js'],
      link: (over: Record<string, string | number>) => {
        const q = new URLSearchParams({ days: String(days), ...(search ? { search } : {}), ...Object.fromEntries(Object.entries(over).map(([k, v]) => [k, String(v)])) });
        return `/products/${product.id}/analytics?${q}`;
      },
    });
  });

  r.get('/products/:id/analytics/sites.csv', async (req, res) => {
    const file = await s.analytics.sitesCsv(req.user!.id, req.params.id, { days: parseDays(req.query.days), search: text(req.query.search) });
    noStore(res).attachment(file.filename).type('text/csv; charset=utf-8').send(file.body);
  });

  r.post('/products/:id/analytics/erase', async (req, res) => {
    const days = parseDays(text(req.body?.days) || undefined);
    const { host } = await s.analytics.eraseSite(req.user!.id, req.params.id, text(req.body?.host));
    res.flash({ kind: 'ok', text: `Everything kept about ${host} was erased.` });
    res.redirect(303, `/products/${req.params.id}/analytics?days=${days}`);
  });

  return r;
}
