import crypto from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../db/client';
import * as lq from '../../db/queries/licensing.queries';
import { NotFoundError } from '../../lib/errors';
import { isUuid, optionalDay, parseInput, plainText, wholeNumber } from '../../lib/validation';
import type { ProductsService } from '../products.service';
import type { CodeChanged } from './downloads.service';
import { codeStatus, todayUtc, type CodeStatus } from './license.verdicts';
import { formatCode, generateCode, normalizeCode } from './purchase-code.format';
import { recordEvent } from '../events/event-outbox';
import { codeRef, productRef } from '../events/event-data';

const limit = (label: string) =>
  wholeNumber({ min: 1, max: 1_000_000, empty: null, message: `${label} must be a whole number from 1 to 1,000,000, or empty for no limit.` });

const customerEmail = plainText({ error: 'Enter an email address.' })
  .trim()
  .refine((v) => v === '' || (v.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)), 'Enter a valid email address, or leave it empty.');
const customerName = plainText({ error: 'The name must be text.' }).trim().max(200, 'Use at most 200 characters.');

const createSchema = z.object({
  count: wholeNumber({ min: 1, max: 1000, empty: 1, message: 'Create between 1 and 1,000 codes at once.' }),
  expiresAt: optionalDay,
  maxDownloads: limit('Maximum downloads'),
  maxSites: limit('Maximum sites'),
  note: plainText({ error: 'The note must be text.' }).max(500, 'Use at most 500 characters.').optional().transform((v) => v?.trim() ?? ''),
  customerEmail: customerEmail.optional().transform((v) => v ?? ''),
  customerName: customerName.optional().transform((v) => v ?? ''),
});

const listSchema = z.object({ search: plainText().optional() });

/**
 * What a vendor may change on a code after creating it: renewal (expiry moved or removed), limits,
 * and who the customer is. Every key is optional: only the keys sent change (an empty or null
 * expiry or limit removes it). Revoking is setRevoked's; other helpers add their own fields beside.
 */
const editSchema = z
  .object({
    expiresAt: optionalDay,
    maxDownloads: limit('Maximum downloads'),
    maxSites: limit('Maximum sites'),
    customerEmail: customerEmail.optional(),
    customerName: customerName.optional(),
    note: plainText({ error: 'The note must be text.' }).max(500, 'Use at most 500 characters.').optional().transform((v) => v?.trim()),
  });

export type CodeEdit = z.input<typeof editSchema>;
/** The keys edit() reads (the API's PATCH body names them the same way as creation's). */
export const CODE_EDIT_FIELDS = Object.keys(editSchema.shape) as (keyof CodeEdit)[];

export type BulkAction = { action: 'revoke' } | { action: 'expiry'; expiresAt: string | null };
/** Which codes a bulk action names: chosen ids, or everything matching a list filter. */
export type BulkTarget = { ids: string[] } | { filter: { search?: unknown; status?: unknown } };

export interface CodeView {
  id: string;
  code: string;
  display: string;
  status: CodeStatus;
  expiresOn: string | null;
  maxDownloads: number | null;
  downloadsUsed: number;
  maxSites: number | null;
  note: string;
  customerEmail: string;
  customerName: string;
  createdAt: Date;
  batchId: string | null;
  /** Active sites that use up a slot; only where the list loaded it. */
  sitesUsed?: number;
  /** Its sites are on the beta channel. */
  beta: boolean;
}

export function codeView(r: lq.PurchaseCodeRow & { sitesUsed?: number }, now = Date.now()): CodeView {
  return {
    id: r.id,
    code: r.code,
    display: formatCode(r.code),
    status: codeStatus(r, now),
    expiresOn: r.expiresOn,
    maxDownloads: r.maxDownloads,
    downloadsUsed: r.downloadsUsed,
    maxSites: r.maxSites,
    note: r.note,
    customerEmail: r.customerEmail,
    customerName: r.customerName,
    createdAt: r.createdAt,
    batchId: r.batchId,
    ...(r.sitesUsed !== undefined ? { sitesUsed: Number(r.sitesUsed) } : {}),
    beta: r.beta,
  };
}

const STATUSES = ['active', 'expired', 'exhausted', 'revoked'] as const;
export const PAGE_SIZE = 50;

/** Vendors' purchase codes: create, find, revoke; every call is scoped to the vendor's product. */
export class PurchaseCodesService {
  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly codeChanged: CodeChanged,
  ) {}

  async create(userId: string, productId: string, input: unknown): Promise<{ batchId: string; codes: CodeView[] }> {
    const product = await this.products.get(userId, productId);
    const v = parseInput(createSchema, input ?? {});
    const batchId = crypto.randomUUID();
    const rows = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const inserted = await lq.insertCodes(
        t,
        Array.from({ length: v.count }, () => ({
          productId: product.id,
          code: generateCode(),
          expiresOn: v.expiresAt,
          maxDownloads: v.maxDownloads,
          maxSites: v.maxSites,
          note: v.note,
          customerEmail: v.customerEmail,
          customerName: v.customerName,
          batchId,
        })),
      );
      // A batch is one event.
      await recordEvent(t, {
        userId: product.userId,
        productId: product.id,
        type: 'code.created',
        data: { product: productRef(product), batchId, count: inserted.length, expiresOn: v.expiresAt, maxDownloads: v.maxDownloads, maxSites: v.maxSites, note: v.note, codes: inserted.map((r) => codeRef(r)) },
      });
      return inserted;
    });
    return { batchId, codes: rows.map((r) => codeView(r)) };
  }

  async list(userId: string, productId: string, q: { search?: unknown; status?: unknown; page?: unknown; batch?: unknown; limit?: number }) {
    const product = await this.products.get(userId, productId);
    // A malformed batch id must not silently widen the list (or a CSV export) to every code.
    if (q.batch !== undefined && q.batch !== '' && !isUuid(q.batch)) throw new NotFoundError('No such batch of codes');
    const status = STATUSES.find((s) => s === q.status);
    const raw = parseInput(listSchema, { search: typeof q.search === 'string' ? q.search : undefined }, 'The search cannot contain control characters.').search;
    const search = raw ? raw.trim().slice(0, 200) : '';
    const page = Math.max(1, Math.min(100_000, Number.parseInt(String(q.page ?? '1'), 10) || 1));
    const limit = q.limit ?? PAGE_SIZE;
    const { rows, total } = await lq.listCodes(this.db, product.id, {
      ...(search ? { search } : {}),
      ...(status ? { status } : {}),
      ...(isUuid(q.batch) ? { batchId: q.batch } : {}),
      today: todayUtc(),
      limit,
      offset: (page - 1) * limit,
    });
    return { product, codes: rows.map((r) => codeView(r)), total, page, pages: Math.max(1, Math.ceil(total / limit)), search, status: status ?? '' };
  }

  async get(userId: string, productId: string, codeId: string) {
    const product = await this.products.get(userId, productId);
    const row = isUuid(codeId) ? await lq.findCodeOfProduct(this.db, product.id, codeId) : undefined;
    if (!row) throw new NotFoundError('No such purchase code');
    const [sites, downloads] = await Promise.all([lq.listSites(this.db, row.id), lq.listDownloads(this.db, row.id)]);
    return { product, code: codeView(row), sites, downloads };
  }

  async setRevoked(userId: string, productId: string, codeId: string, revoked: boolean): Promise<CodeView> {
    const { product, code: before } = await this.get(userId, productId, codeId);
    const row = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const changed = await lq.setRevoked(t, product.id, codeId, revoked);
      if (changed && revoked && before.status !== 'revoked') await recordEvent(t, { userId: product.userId, productId: product.id, type: 'code.revoked', data: { product: productRef(product), code: codeRef(changed) } });
      return changed;
    });
    if (!row) throw new NotFoundError('No such purchase code');
    this.codeChanged(row.code, row.revision);
    return codeView(row);
  }

  /** For the API, which names codes by their value: only the vendor's own codes are found. */
  async findOwned(userId: string, value: string) {
    const canonical = normalizeCode(value);
    const row = canonical ? await lq.findCode(this.db, canonical) : undefined;
    if (!row) throw new NotFoundError('No such purchase code');
    await this.products.get(userId, row.productId);
    return row;
  }

  /** Renewal, limits and customer fields (see editSchema); the change reaches update checks at once. */
  async edit(userId: string, productId: string, codeId: string, input: unknown): Promise<CodeView> {
    const raw = input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
    const v = parseInput(editSchema, Object.fromEntries(CODE_EDIT_FIELDS.filter((k) => k in raw).map((k) => [k, raw[k]])));
    const changes = Object.fromEntries(Object.entries(v).filter(([k, val]) => k in raw && val !== undefined)) as lq.CodeChanges;
    const { product } = await this.get(userId, productId, codeId);
    const row = await lq.updateCode(this.db, product.id, codeId, changes);
    if (!row) throw new NotFoundError('No such purchase code');
    this.codeChanged(row.code, row.revision);
    return codeView(row);
  }

  /** Revoke, or set the expiry of, the chosen codes or every code matching a filter; returns how many changed. */
  async bulk(userId: string, productId: string, target: BulkTarget, action: BulkAction): Promise<number> {
    const product = await this.products.get(userId, productId);
    const ids = await this.bulkIds(product.id, target);
    if (!ids.length) return 0;
    const expiresAt = action.action === 'expiry' ? parseInput(z.object({ expiresAt: optionalDay }), { expiresAt: action.expiresAt }).expiresAt : null;
    let changed = 0;
    // Chunks keep each statement well under PostgreSQL's 65,535 parameters.
    for (let i = 0; i < ids.length; i += 5000) {
      const chunk = ids.slice(i, i + 5000);
      const rows = action.action === 'revoke' ? await lq.revokeCodes(this.db, product.id, chunk) : await lq.setExpiryOfCodes(this.db, product.id, chunk, expiresAt);
      for (const r of rows) this.codeChanged(r.code, r.revision);
      changed += rows.length;
    }
    return changed;
  }

  /** The CSV of the chosen codes or of every code matching a filter. */
  async bulkCsv(userId: string, productId: string, target: BulkTarget): Promise<{ filename: string; body: string }> {
    if ('filter' in target) return this.csv(userId, productId, target.filter);
    const product = await this.products.get(userId, productId);
    const ids = target.ids.filter(isUuid).slice(0, 5000);
    const rows = ids.length ? await lq.codesByIds(this.db, product.id, ids) : [];
    return { filename: `${product.slug}-purchase-codes.csv`, body: csvOf(rows.map((r) => codeView(r))) };
  }

  private async bulkIds(productId: string, target: BulkTarget): Promise<string[]> {
    if ('ids' in target) return target.ids.filter(isUuid).slice(0, 5000); // a page shows at most 50
    const { rows } = await lq.listCodes(this.db, productId, { ...this.filterOf(target.filter), today: todayUtc(), limit: 100_000, offset: 0 });
    return rows.map((r) => r.id);
  }

  private filterOf(q: { search?: unknown; status?: unknown }): { search?: string; status?: lq.CodeStatusFilter } {
    const status = STATUSES.find((s) => s === q.status);
    const raw = parseInput(listSchema, { search: typeof q.search === 'string' ? q.search : undefined }, 'The search cannot contain control characters.').search;
    const search = raw ? raw.trim().slice(0, 200) : '';
    return { ...(search ? { search } : {}), ...(status ? { status } : {}) };
  }

  async deactivateSite(userId: string, productId: string, codeId: string, siteId: string): Promise<void> {
    const { product, code, sites } = await this.get(userId, productId, codeId);
    const site = sites.find((s) => s.id === siteId);
    if (!site) throw new NotFoundError('No such site');
    const revision = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const r = await lq.unbindSite(t, code.id, site.host);
      if (r !== null) await recordEvent(t, { userId: product.userId, productId: product.id, type: 'site.deactivated', data: { product: productRef(product), code: codeRef(code), site: site.host } });
      return r;
    });
    if (revision !== null) this.codeChanged(code.code, revision);
  }

  async csv(userId: string, productId: string, q: { search?: unknown; status?: unknown; batch?: unknown }): Promise<{ filename: string; body: string }> {
    const { product, codes } = await this.list(userId, productId, { ...q, page: 1, limit: 100_000 });
    return { filename: `${product.slug}-purchase-codes.csv`, body: csvOf(codes) };
  }
}


/** Quote every cell; neutralise spreadsheet formulas in free text. Empty limits mean unlimited. */
function csvOf(codes: CodeView[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
  };
  const lines = [['code', 'status', 'expires_on', 'max_downloads', 'downloads_used', 'max_sites', 'sites_used', 'customer_email', 'customer_name', 'note', 'created_at'].join(',')];
  for (const c of codes) {
    lines.push([c.display, c.status, c.expiresOn, c.maxDownloads, c.downloadsUsed, c.maxSites, c.sitesUsed, c.customerEmail, c.customerName, c.note, c.createdAt.toISOString()].map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
