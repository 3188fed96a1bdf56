import { Router } from 'express';
import { NotFoundError } from '../lib/errors';
import type { Services } from '../services';
import { readmeToHtml } from '../services/packages/readme-html';
import type { ProductSnapshot } from '../services/updates/catalog';

interface Section {
  id: string;
  title: string;
  html: string;
}

const TITLES: Record<string, string> = { faq: 'FAQ', other_notes: 'Other notes' };

const titleOf = (key: string): string => TITLES[key] ?? key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' ');

/** The vendor's own text wins; the live release's readme.txt fills the gaps (as in the update JSON). */
function sectionsOf(p: ProductSnapshot): Section[] {
  const readme = p.live?.readme ?? null;
  const parts = readme?.sections ?? {};
  const changelog = p.changelog.trim()
    ? readmeToHtml(p.changelog)
    : (readme?.changelog ?? []).map((e) => `<h4>${readmeToHtml(e.version).replace(/^<p>|<\/p>$/g, '')}</h4>\n${readmeToHtml(e.body)}`).join('\n');
  const out: Section[] = [
    { id: 'description', title: 'Description', html: readmeToHtml(p.description.trim() || parts.description || readme?.shortDescription || '') },
    { id: 'installation', title: 'Installation', html: readmeToHtml(p.installation.trim() || parts.installation || '') },
    { id: 'changelog', title: 'Changelog', html: changelog },
  ];
  for (const [key, text] of Object.entries(parts)) {
    if (!['description', 'installation', 'changelog', 'upgrade_notice'].includes(key)) out.push({ id: key, title: titleOf(key), html: readmeToHtml(text) });
  }
  return out.filter((s) => s.html.trim());
}

const httpUrl = (u: string | null | undefined): string | null => (u && /^https?:\/\//i.test(u) ? u : null);

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
      homepage: httpUrl(product.homepage) ?? httpUrl(live?.uri),
      authorName: product.author ?? live?.author ?? null,
      authorUrl: httpUrl(product.authorHomepage) ?? httpUrl(live?.authorUri),
      sections: sectionsOf(product),
    });
  });

  return r;
}
