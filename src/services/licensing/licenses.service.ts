import type { Db } from '../../db/client';
import * as lq from '../../db/queries/licensing.queries';
import { AppError, NotFoundError, ValidationError } from '../../lib/errors';
import { isUuid } from '../../lib/validation';
import { codeState, type Catalog } from '../updates/catalog';
import { normalizeCode } from './code-format';
import { siteError } from './entitlement';
import { licenseJson } from './license-status';
import { isDevelopmentHost, siteHost } from './site-hosts';

export interface LicenseRequest {
  productId: unknown;
  license: unknown;
  domain: unknown;
}

/** What the PHP client (and vendors' own code) call to check, activate and deactivate a code. */
export class LicensesService {
  constructor(
    private readonly db: Db,
    private readonly catalog: Catalog,
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

  private async load(t: Db, productId: string, canonical: string | null, lock: boolean) {
    const found = canonical ? (lock ? await lq.findCode(t, canonical).then((r) => (r ? lq.lockCode(t, r.id) : undefined)) : await lq.findCode(t, canonical)) : undefined;
    if (!found || found.productId !== productId) throw new NotFoundError('This purchase code is not valid for this product.');
    return { row: found, state: codeState(found, await lq.activeSites(t, found.id)) };
  }

  async check(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, false);
    const { row, state } = await this.load(this.db, productId, canonical, false);
    return licenseJson(row, state, host);
  }

  async activate(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, true);
    const result = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const { row, state } = await this.load(t, productId, canonical, true);
      if (row.revokedAt) throw new AppError(403, 'revoked', 'This purchase code was revoked by the vendor.');
      const problem = siteError(state, host);
      if (problem) throw new AppError(409, problem.code, problem.message);
      if (!state.boundHosts.includes(host!)) await lq.bindSite(t, row.id, host!, !isDevelopmentHost(host!));
      const after = await this.load(t, productId, canonical, false);
      return { ...after, code: row.code };
    });
    this.catalog.invalidateCode(result.code);
    return licenseJson(result.row, result.state, host);
  }

  /** Frees the site's slot; deactivating a site that is not active is not an error. */
  async deactivate(req: LicenseRequest) {
    const { productId, canonical, host } = this.parse(req, true);
    const { row } = await this.load(this.db, productId, canonical, false);
    if (await lq.unbindSite(this.db, row.id, host!)) this.catalog.invalidateCode(row.code);
    const after = await this.load(this.db, productId, canonical, false);
    return licenseJson(after.row, after.state, host);
  }
}
