import type { Db } from '../../db/client';
import * as lq from '../../db/queries/licensing.queries';
import { AppError, NotFoundError, ValidationError } from '../../lib/errors';
import { isUuid } from '../../lib/validation';
import type { CodeChanged } from './downloads.service';
import { activationVerdict, codeStatus, siteBinding } from './license.verdicts';
import { normalizeCode } from './purchase-code.format';
import { codeState, type CodeState } from './purchase-code.state';
import { isDevelopmentHost, siteHost } from './site-host.rules';
import { findProduct } from '../../db/queries/products.queries';
import { recordEvent } from '../events/event-outbox';
import { codeRef, productRef } from '../events/event-data';

/** site.activated for a new binding, and site_limit.reached when it took the last slot; in the binding's transaction. */
export async function recordSiteBound(t: Db, row: lq.PurchaseCodeRow, host: string, countedAfter: number): Promise<void> {
  const product = await findProduct(t, row.productId);
  if (!product) return;
  const base = { product: productRef(product), code: codeRef(row) };
  await recordEvent(t, { userId: product.userId, productId: product.id, type: 'site.activated', data: { ...base, site: host } });
  if (row.maxSites !== null && !isDevelopmentHost(host) && countedAfter >= row.maxSites) {
    await recordEvent(t, { userId: product.userId, productId: product.id, type: 'site_limit.reached', data: { ...base, site: host, maxSites: row.maxSites } });
  }
}

export interface LicenseRequest {
  productId: unknown;
  license: unknown;
  domain: unknown;
}

/** The license API's view of a code, for one site. */
function licenseJson(row: lq.PurchaseCodeRow, state: CodeState, host: string | null, now = Date.now()) {
  return {
    license: {
      status: codeStatus(row, now),
      expires_at: row.expiresOn,
      downloads_used: row.downloadsUsed,
      downloads_allowed: row.maxDownloads,
      sites_used: state.countedHosts.length,
      sites_allowed: row.maxSites,
      site_active: host ? state.boundHosts.includes(host) : false,
    },
  };
}

/** What the PHP client (and vendors' own code) call to check, activate and deactivate a code. */
export class LicensesService {
  constructor(
    private readonly db: Db,
    private readonly codeChanged: CodeChanged,
  ) {}

  private parse(req: LicenseRequest, needHost: boolean) {
    const fields: Record<string, string> = {};
    if (!isUuid(req.productId)) fields.productId = 'Send the product id (a UUID).';
    if (typeof req.license !== 'string' || !req.license) fields.license = 'Send the purchase code.';
    const host = typeof req.domain === 'string' ? siteHost(req.domain, undefined) : null;
    if (needHost && !host) fields.domain = "Send the site's address, e.g. https://example.com.";
    if (Object.keys(fields).length) throw new ValidationError('The request is missing fields.', fields);
    const canonical = normalizeCode(req.license);
    return { productId: req.productId as string, canonical, host };
  }

  /** The code and its sites; `lock` holds the code's row until the transaction ends. */
  private async load(t: Db, productId: string, canonical: string | null, opts: { lock?: boolean; inTransaction?: boolean } = {}) {
    let found = canonical ? await lq.findCode(t, canonical) : undefined;
    if (found && opts.lock) found = await lq.lockCode(t, found.id);
    if (!found || found.productId !== productId) throw new NotFoundError('This purchase code is not valid for this product.');
    return { row: found, state: codeState(found, await lq.activeSites(t, found.id, opts.inTransaction)) };
  }

  async check(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, false);
    const { row, state } = await this.load(this.db, productId, canonical);
    return licenseJson(row, state, host);
  }

  async activate(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, true);
    const result = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const { row, state } = await this.load(t, productId, canonical, { lock: true, inTransaction: true });
      const refusal = activationVerdict(state, host!);
      if (refusal) throw new AppError(refusal.status, refusal.error.code, refusal.error.message);
      const binding = siteBinding(state, host);
      const change = binding === 'none' ? null : await lq.bindSite(t, row.id, host!, !isDevelopmentHost(host!), state.maxSites);
      const after = await this.load(t, productId, canonical, { inTransaction: true });
      if (change && change.revision !== null && !change.wasActive) await recordSiteBound(t, after.row, host!, after.state.countedHosts.length);
      return { ...after, revision: change?.revision ?? null };
    });
    if (result.revision !== null) this.codeChanged(result.row.code, result.revision);
    return licenseJson(result.row, result.state, host);
  }

  /** Frees the site's slot; deactivating a site that is not active is not an error. */
  async deactivate(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, true);
    const { row } = await this.load(this.db, productId, canonical);
    const revision = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const r = await lq.unbindSite(t, row.id, host!);
      const product = r !== null ? await findProduct(t, row.productId) : undefined;
      if (product) await recordEvent(t, { userId: product.userId, productId: product.id, type: 'site.deactivated', data: { product: productRef(product), code: codeRef(row), site: host } });
      return r;
    });
    if (revision !== null) this.codeChanged(row.code, revision);
    const after = await this.load(this.db, productId, canonical);
    return licenseJson(after.row, after.state, host);
  }
}
