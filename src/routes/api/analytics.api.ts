import { Router } from 'express';
import { parseDays, type AnalyticsReport } from '../../services/analytics/analytics.service';
import type { Services } from '../../services';

/** The API's shape for a report (kept stable: see README "Analytics"). */
export function analyticsJson(r: AnalyticsReport) {
  return {
    days: r.days,
    active_installs: { '7d': r.active.d7, '30d': r.active.d30 },
    daily: r.daily.map((d) => ({ date: d.date, active_sites: d.activeSites, checks: d.checks, downloads: d.downloads })),
    versions: r.versions.map((v) => ({ version: v.value, sites: v.sites })),
    wordpress: r.wordpress.map((v) => ({ version: v.value, sites: v.sites })),
    php: r.php.map((v) => ({ version: v.value, sites: v.sites })),
    locales: r.locales.map((v) => ({ locale: v.value, sites: v.sites })),
    licenses: r.licenses,
  };
}

/** Vendor REST API: analytics of one product, and erasure of one site's data. */
export function analyticsApi(s: Services): Router {
  const r = Router();

  r.get('/products/:id/analytics', async (req, res) => {
    const days = parseDays(req.query.days);
    res.json(analyticsJson(await s.analytics.report(req.user!.id, req.params.id, days)));
  });

  r.delete('/products/:id/sites/:host', async (req, res) => {
    await s.analytics.eraseSite(req.user!.id, req.params.id, req.params.host);
    res.status(204).end();
  });

  return r;
}
