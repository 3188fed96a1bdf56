import type { PurchaseCodeRow } from '../../db/queries/licensing.queries';

/** What every licence verdict reads about one purchase code. */
export interface CodeState {
  id: string;
  /** Canonical form: the catalog's cache key. */
  code: string;
  productId: string;
  /** Bumped by every write that can change a verdict (see license.verdicts.ts); cached copies carry it. */
  revision: number;
  expiresOn: string | null; // YYYY-MM-DD, entitled through the end of that UTC day
  maxDownloads: number | null;
  /** Only the download that exhausts a code changes a verdict (and the revision): cached copies may lag below maxDownloads. */
  downloadsUsed: number;
  maxSites: number | null;
  revoked: boolean;
  /** The vendor put this code's sites on the beta channel. */
  beta?: boolean;
  /** Active bound hosts that use up a slot (the catalog loads sites only when maxSites is set). */
  countedHosts: string[];
  /** Every active bound host, development ones included. */
  boundHosts: string[];
}

export type CodeRowState = Pick<PurchaseCodeRow, 'id' | 'code' | 'productId' | 'revision' | 'expiresOn' | 'maxDownloads' | 'downloadsUsed' | 'maxSites' | 'revokedAt'> & { beta?: boolean };

export function codeState(row: CodeRowState, sites: { host: string; counts: boolean }[]): CodeState {
  return {
    id: row.id,
    code: row.code,
    productId: row.productId,
    revision: row.revision,
    expiresOn: row.expiresOn,
    maxDownloads: row.maxDownloads,
    downloadsUsed: row.downloadsUsed,
    maxSites: row.maxSites,
    revoked: row.revokedAt !== null,
    beta: row.beta ?? false,
    boundHosts: sites.map((s) => s.host),
    countedHosts: sites.filter((s) => s.counts).map((s) => s.host),
  };
}
