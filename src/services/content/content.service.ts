/** Product sections and per-version changelogs / upgrade notices, as vendors edit them (dashboard and API). */
import { z } from 'zod';
import type { Db } from '../../db/client';
import * as cq from '../../db/queries/content.queries';
import * as pq from '../../db/queries/products.queries';
import type { StoredSection } from '../../db/schema';
import { NotFoundError, ValidationError } from '../../lib/errors';
import { multilineText, parseInput } from '../../lib/validation';
import type { ProductsService } from '../products.service';
import { readmeToHtml } from '../packages/readme-html';
import { sectionKey } from '../packages/readme';
import { htmlToMarkdown, sameMarkdown } from './html-to-markdown';
import { vendorTextToHtml, type TextFormat } from './vendor-text';

/** Per field: HTML up to the sanitizer's own cut is accepted; the editor's output of a long FAQ is far below. */
export const MAX_SECTION_INPUT = 200_000;
export const MAX_SECTIONS = 20;
/** The sections every product offers in the editor, in WordPress's tab order. */
export const STANDARD_SECTIONS = ['description', 'installation', 'faq'] as const;
const SECTION_KEY = /^[a-z][a-z0-9_]{0,39}$/;

const format = z.enum(['html', 'markdown'], { error: 'Use "html" or "markdown".' }).optional();
const text = multilineText(MAX_SECTION_INPUT).nullable().optional();

const versionTextSchema = z.object({ changelog: text, upgrade_notice: text, format });

const sectionsSchema = z.object({
  sections: z
    .record(z.string(), multilineText(MAX_SECTION_INPUT).nullable(), { error: 'Send sections as an object: { "description": "…" }.' })
    .superRefine((rec, ctx) => {
      const keys = Object.keys(rec);
      if (keys.length > MAX_SECTIONS) ctx.addIssue({ code: 'custom', message: `Send at most ${MAX_SECTIONS} sections.` });
      for (const key of keys) {
        if (key === 'changelog' || key === 'upgrade_notice') ctx.addIssue({ code: 'custom', path: [key], message: 'Changelogs and upgrade notices belong to each version: PATCH /api/v1/products/:id/versions/:version.' });
        else if (!SECTION_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'Name sections with lowercase letters, digits and underscores (up to 40), starting with a letter.' });
      }
    }),
  format,
});

export interface VersionText {
  changelog: string;
  upgradeNotice: string;
}

export interface EditableSection {
  key: string;
  html: string;
  /** True when the vendor's own text is stored; false when it comes from the live release's readme. */
  own: boolean;
}

export class ContentService {
  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly onChanged: (productId: string) => void = () => undefined,
  ) {}

  /** Validates `{ sections, format }` without writing (so a PATCH can refuse before changing anything). */
  parseSections(input: unknown): { sections: Record<string, string | null>; format: TextFormat } {
    const v = parseInput(sectionsSchema, input);
    return { sections: v.sections, format: v.format ?? 'html' };
  }

  /**
   * Sets the named sections (HTML or Markdown, sanitized here whatever the client sent); `null` or an empty
   * text removes the vendor's own text, so the release's readme shows again. Other sections are kept.
   */
  async updateSections(userId: string, productId: string, input: unknown): Promise<StoredSection[]> {
    const product = await this.products.get(userId, productId);
    const stored = await this.sectionsAfter(userId, product.id, this.parseSections(input));
    await this.db.transaction(async (tx) => {
      await cq.upsertProductSections(tx as unknown as Db, product.id, stored);
      await cq.bumpProductRevision(tx as unknown as Db, product.id);
    });
    this.onChanged(product.id);
    return stored;
  }

  /**
   * What the editor shows: the vendor's sections, and for the rest the live release's readme (converted at
   * upload), or the older Markdown fields: editing any of them stores the vendor's own HTML.
   */
  async editableSections(userId: string, productId: string): Promise<EditableSection[]> {
    const product = await this.products.get(userId, productId);
    const own = (await cq.productSectionsOf(this.db, product.id)) ?? [];
    const live = product.liveVersionId ? await cq.versionContentOf(this.db, product.liveVersionId) : undefined;
    const out = new Map<string, EditableSection>();
    for (const key of STANDARD_SECTIONS) out.set(key, { key, html: '', own: false });
    for (const s of live?.sections ?? []) out.set(s.key, { key: s.key, html: s.html, own: false });
    if (product.description.trim()) out.set('description', { key: 'description', html: readmeToHtml(product.description), own: false });
    if (product.installation.trim()) out.set('installation', { key: 'installation', html: readmeToHtml(product.installation), own: false });
    for (const s of own) out.set(s.key, { key: s.key, html: s.html, own: true });
    return [...out.values()];
  }

  /**
   * The dashboard form: every shown section, plus an optional new one. A section still showing the readme's text is
   * stored as the vendor's own only when it was changed (the editor says so; without JavaScript the Markdown differs).
   */
  async sectionsFromForm(userId: string, productId: string, form: Record<string, unknown>): Promise<{ sections: Record<string, string | null>; format: TextFormat }> {
    const format: TextFormat = form.format === 'html' ? 'html' : 'markdown';
    const sections: Record<string, string | null> = {};
    for (const shown of await this.editableSections(userId, productId)) {
      const value = form[`section_${shown.key}`];
      if (typeof value !== 'string') continue;
      const changed = format === 'html' ? form[`changed_section_${shown.key}`] === '1' : !sameMarkdown(value, htmlToMarkdown(shown.html));
      if (shown.own || changed) sections[shown.key] = value;
    }
    const title = typeof form.new_section_title === 'string' ? form.new_section_title.trim() : '';
    const body = typeof form.section_new === 'string' ? form.section_new : '';
    if (title !== '' || body.trim() !== '') {
      const key = sectionKey(title);
      if (key === '') throw new ValidationError('Please correct the highlighted fields.', { new_section_title: 'Name the new section.' });
      sections[key] = body;
    }
    return { sections, format };
  }

  /** The vendor's sections as they would be after `patch` (nothing written): for the preview. */
  async sectionsAfter(userId: string, productId: string, patch: { sections: Record<string, string | null>; format: TextFormat }): Promise<StoredSection[]> {
    const product = await this.products.get(userId, productId);
    const { sections, format } = this.parseSections(patch);
    const next = new Map(((await cq.productSectionsOf(this.db, product.id)) ?? []).map((s) => [s.key, s.html]));
    for (const [key, value] of Object.entries(sections)) {
      const html = value === null ? '' : vendorTextToHtml(value, format);
      if (html === '') next.delete(key);
      else next.set(key, html);
    }
    return [...next].map(([key, html]) => ({ key, html }));
  }

  /** Each version's stored changelog and notice, by version id (versions from before per-version text have none). */
  async versionTexts(productId: string): Promise<Map<string, VersionText>> {
    const rows = await cq.versionsWithContent(this.db, productId);
    return new Map(rows.filter((r) => r.changelog !== null).map((r) => [r.versionId, { changelog: r.changelog ?? '', upgradeNotice: r.upgradeNotice ?? '' }]));
  }

  /** `{ changelog?, upgrade_notice?, format? }`: HTML (default) or Markdown, sanitized; only the fields named change. */
  /** Throws the ValidationError updateVersionText would, writing nothing. */
  parseVersionText(input: unknown): void {
    parseInput(versionTextSchema, (input ?? {}) as Record<string, unknown>);
  }

  async updateVersionText(userId: string, productId: string, versionRef: string, input: unknown): Promise<VersionText & { versionId: string; version: string }> {
    const product = await this.products.get(userId, productId);
    const raw = (input ?? {}) as Record<string, unknown>;
    const v = parseInput(versionTextSchema, raw);
    if (v.changelog === undefined && v.upgrade_notice === undefined) throw new ValidationError('Send "changelog" and/or "upgrade_notice".', { _: 'Nothing to change.' });
    const version = await this.findVersion(product.id, versionRef);
    const fmt = v.format ?? 'html';
    const set: { changelog?: string; upgradeNotice?: string } = {};
    if (v.changelog !== undefined) set.changelog = vendorTextToHtml(v.changelog ?? '', fmt);
    if (v.upgrade_notice !== undefined) set.upgradeNotice = vendorTextToHtml(v.upgrade_notice ?? '', fmt);
    await this.db.transaction(async (tx) => {
      await cq.upsertVersionContent(tx as unknown as Db, product.id, version.id, set);
      await cq.bumpProductRevision(tx as unknown as Db, product.id);
    });
    this.onChanged(product.id);
    const row = await cq.versionContentOf(this.db, version.id);
    return { versionId: version.id, version: version.version, changelog: row?.changelog ?? '', upgradeNotice: row?.upgradeNotice ?? '' };
  }

  private async findVersion(productId: string, ref: string) {
    const rows = await pq.listVersions(this.db, productId);
    const version = rows.find((r) => r.id === ref || r.version === ref);
    if (!version) throw new NotFoundError('No such version');
    return version;
  }
}
