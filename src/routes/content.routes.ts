import { Router, type Request, type Response } from 'express';
import { ValidationError } from '../lib/errors';
import type { Services } from '../services';
import { sectionTitle } from '../services/content/section-titles';
import { htmlToMarkdown } from '../services/content/html-to-markdown';
import { vendorTextToHtml } from '../services/content/vendor-text';
import { renderSections } from '../services/updates/update-json';

/** A rich text field as the views need it: the HTML the editor starts from, the Markdown the no-JavaScript textarea shows. */
interface RichValue {
  html: string;
  markdown: string;
}

const fromStored = (html: string): RichValue => ({ html, markdown: htmlToMarkdown(html) });

/** What the vendor sent back, for re-showing the form after an error (sanitized like everything else). */
function fromPosted(value: unknown, format: unknown): RichValue {
  const text = typeof value === 'string' ? value : '';
  const fmt = format === 'html' ? 'html' : 'markdown';
  const html = vendorTextToHtml(text, fmt);
  return { html, markdown: fmt === 'markdown' ? text : htmlToMarkdown(html) };
}

/** Form field names for service field errors (`sections.faq` → `section_faq`). */
function formFields(err: ValidationError): ValidationError {
  const fields = Object.fromEntries(Object.entries(err.fields ?? {}).map(([k, v]) => [k.replace(/^sections\./, 'section_'), v]));
  return new ValidationError(err.message, fields);
}

/** Description, installation, FAQ and custom sections; per-version changelogs; the "View details" preview. */
export function contentRoutes(s: Services): Router {
  const r = Router();

  const renderContent = async (req: Request, res: Response, opts: { posted?: Record<string, unknown>; error?: ValidationError } = {}) => {
    const userId = req.user!.id;
    const product = await s.products.get(userId, String(req.params.id));
    const shown = await s.content.editableSections(userId, product.id);
    const posted = opts.posted;
    const fields = shown.map((f) => ({
      key: f.key,
      title: sectionTitle(f.key),
      own: f.own,
      value: posted && typeof posted[`section_${f.key}`] === 'string' ? fromPosted(posted[`section_${f.key}`], posted.format) : fromStored(f.html),
    }));
    res.status(opts.error ? opts.error.status : 200).render('pages/products/content', {
      title: `Sections of ${product.name}`,
      product,
      fields,
      newSection: { title: typeof posted?.new_section_title === 'string' ? posted.new_section_title : '', value: posted ? fromPosted(posted.section_new, posted.format) : fromStored('') },
      scripts: ['editor.bundle.js'],
      errors: opts.error?.fields ?? {},
      message: opts.error?.message,
    });
  };

  r.get('/products/:id/content', (req, res) => renderContent(req, res));

  r.post('/products/:id/content', async (req, res) => {
    const userId = req.user!.id;
    try {
      const patch = await s.content.sectionsFromForm(userId, String(req.params.id), req.body ?? {});
      await s.content.updateSections(userId, String(req.params.id), patch);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderContent(req, res, { posted: req.body ?? {}, error: formFields(err) });
    }
    res.flash({ kind: 'ok', text: 'Changes saved.' });
    res.redirect(`/products/${String(req.params.id)}`);
  });

  /** WordPress's "View details" modal, as it would show the product (with the form's unsaved text when posted). */
  const renderPreview = async (req: Request, res: Response, posted: Record<string, unknown> | null) => {
    const userId = req.user!.id;
    const product = await s.products.get(userId, String(req.params.id));
    const snapshot = await s.catalog.product(product.id);
    if (!snapshot) throw new ValidationError('This product is gone.');
    let content = snapshot.content ?? { sections: null, liveSections: null, notes: [] };
    if (posted) {
      try {
        content = { ...content, sections: await s.content.sectionsAfter(userId, product.id, await s.content.sectionsFromForm(userId, product.id, posted)) };
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return renderContent(req, res, { posted, error: formFields(err) });
      }
    }
    // Rendered as the update API renders them (the same sanitizer; nothing here is cached under the product's revision).
    const html = renderSections({ ...snapshot, content }, snapshot.live);
    const sections = Object.entries(html)
      .filter(([, h]) => h.trim() !== '')
      .map(([key, h]) => ({ key, title: sectionTitle(key), html: h }));
    res.render('pages/products/preview', { title: `Preview of ${product.name}`, product, live: snapshot.live, sections });
  };

  r.get('/products/:id/preview', (req, res) => renderPreview(req, res, null));
  r.post('/products/:id/preview', (req, res) => renderPreview(req, res, req.body ?? {}));

  const renderNotes = async (req: Request, res: Response, opts: { posted?: Record<string, unknown>; error?: ValidationError } = {}) => {
    const userId = req.user!.id;
    const { product, version } = await s.releases.findVersion(userId, String(req.params.id), String(req.params.versionId));
    const text = (await s.content.versionTexts(product.id)).get(version.id) ?? { changelog: '', upgradeNotice: '' };
    const posted = opts.posted;
    res.status(opts.error ? opts.error.status : 200).render('pages/products/version-notes', {
      title: `Changelog of ${product.name} ${version.version}`,
      product,
      version,
      changelog: posted ? fromPosted(posted.changelog, posted.format) : fromStored(text.changelog),
      upgradeNotice: posted ? fromPosted(posted.upgrade_notice, posted.format) : fromStored(text.upgradeNotice),
      scripts: ['editor.bundle.js'],
      errors: opts.error?.fields ?? {},
      message: opts.error?.message,
    });
  };

  r.get('/products/:id/versions/:versionId/notes', (req, res) => renderNotes(req, res));

  r.post('/products/:id/versions/:versionId/notes', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      await s.content.updateVersionText(req.user!.id, String(req.params.id), String(req.params.versionId), {
        changelog: typeof body.changelog === 'string' ? body.changelog : '',
        upgrade_notice: typeof body.upgrade_notice === 'string' ? body.upgrade_notice : '',
        format: body.format === 'html' ? 'html' : 'markdown',
      });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderNotes(req, res, { posted: body, error: err });
    }
    res.flash({ kind: 'ok', text: 'Changelog saved.' });
    res.redirect(`/products/${String(req.params.id)}#notes-${encodeURIComponent(String(req.params.versionId))}`);
  });

  /** The vendor's own copy of a verified zip: a 5-minute S3 link, not counted as a customer download. */
  r.get('/products/:id/versions/:versionId/download', async (req, res) => {
    res.redirect(302, await s.releases.vendorDownloadUrl(req.user!.id, String(req.params.id), String(req.params.versionId)));
  });

  return r;
}
