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

const limit = (label: string) =>
  wholeNumber({ min: 1, max: 1_000_000, empty: null, message: `${label} must be a whole number from 1 to 1,000,000, or empty for no limit.` });

const createSchema = z.object({
  count: wholeNumber({ min: 1, max: 1000, empty: 1, message: 'Create between 1 and 1,000 codes at once.' }),
  expiresAt: optionalDay,
  maxDownloads: limit('Maximum downloads'),
  maxSites: limit('Maximum sites'),
  note: plainText({ error: 'The note must be text.' }).max(500, 'Use at most 500 characters.').optional().transform((v) => v?.trim() ?? ''),
});

const listSchema = z.object({ search: plainText().optional() });

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
  createdAt: Date;
  batchId: string | null;
  /** Its sites are on the beta channel. */
  beta: boolean;
}

export function codeView(r: lq.PurchaseCodeRow, now = Date.now()): CodeView {
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
    createdAt: r.createdAt,
    batchId: r.batchId,
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
    const rows = await lq.insertCodes(
      this.db,
      Array.from({ length: v.count }, () => ({
        productId: product.id,
        code: generateCode(),
        expiresOn: v.expiresAt,
        maxDownloads: v.maxDownloads,
        maxSites: v.maxSites,
        note: v.note,
        batchId,
      })),
    );
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
    const { product } = await this.get(userId, productId, codeId);
    const row = await lq.setRevoked(this.db, product.id, codeId, revoked);
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

  async deactivateSite(userId: string, productId: string, codeId: string, siteId: string): Promise<void> {
    const { code, sites } = await this.get(userId, productId, codeId);
    const site = sites.find((s) => s.id === siteId);
    if (!site) throw new NotFoundError('No such site');
    const revision = await lq.unbindSite(this.db, code.id, site.host);
    if (revision !== null) this.codeChanged(code.code, revision);
  }

  async csv(userId: string, productId: string, q: { search?: unknown; status?: unknown; batch?: unknown }): Promise<{ filename: string; body: string }> {
    const { product, codes } = await this.list(userId, productId, { ...q, page: 1, limit: 100_000 });
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? '' : String(v);
      // Quote always; neutralise spreadsheet formulas in free text.
      return `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
    };
    const lines = [['code', 'status', 'expires_on', 'max_downloads', 'downloads_used', 'max_sites', 'note', 'created_at'].join(',')];
    for (const c of codes) lines.push([c.display, c.status, c.expiresOn, c.maxDownloads, c.downloadsUsed, c.maxSites, c.note, c.createdAt.toISOString()].map(cell).join(','));
    return { filename: `${product.slug}-purchase-codes.csv`, body: `${lines.join('\r\n')}\r\n` };
  }
}

