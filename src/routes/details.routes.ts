import { Router } from 'express';
import { NotFoundError } from '../lib/errors';
import type { Services } from '../services';
import { safeHttpUrl } from '../services/content/urls';
import type { ProductSnapshot } from '../services/updates/catalog.service';
import { productSections } from '../services/updates/update-json';

interface Section {
  id: string;
  title: string;
  html: string;
}

const TITLES: Record<string, string> = { faq: 'FAQ', other_notes: 'Other notes' };

const titleOf = (key: string): string => TITLES[key] ?? key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' ');

function sectionsOf(p: ProductSnapshot): Section[] {
  return Object.entries(productSections(p, p.live))
    .map(([id, html]) => ({ id, title: titleOf(id), html }))
    .filter((s) => s.html.trim());
}

/** Public, read-only "View details" page that WordPress links to for themes (details_url). */
export function detailsRoutes(s: Services): Router {
  const r = Router();

  r.get('/details/:productId', async (req, res) => {
    const product = await s.catalog.product(req.params.productId);
    if (!product) throw new NotFoundError('No such plugin or theme.');
    const live = product.live;
    res.set('Cache-Control', 'public, max-age=60').render('pages/details', {
      title: product.name,
      product,
      live,
      released: live ? new Date(live.releasedAt).toISOString().slice(0, 10) : null,
      homepage: safeHttpUrl(product.homepage) ?? safeHttpUrl(live?.uri),
      authorName: product.author ?? live?.author ?? null,
      authorUrl: safeHttpUrl(product.authorHomepage) ?? safeHttpUrl(live?.authorUri),
      sections: sectionsOf(product),
    });
  });

  return r;
}
