import type { Db } from '../db/client';
import * as q from '../db/queries/dashboard.queries';
import { todayUtc } from './licensing/license.verdicts';

/** How far back a check-in counts a site as "using" a product (the live-version confirmation names them). */
export const ACTIVE_SITE_DAYS = 30;

/** Read-only figures the dashboard pages show beside the records themselves. */
export class DashboardService {
  constructor(private readonly db: Db) {}

  /** Per product id: live version number and active purchase codes. Callers have already scoped to the vendor. */
  productOverview(userId: string) {
    return q.productOverview(this.db, userId, todayUtc());
  }

  /** Sites that checked for updates in the last ACTIVE_SITE_DAYS days. productId must be the vendor's (checked by the caller). */
  activeSites(productId: string, now = Date.now()): Promise<number> {
    return q.sitesCheckingSince(this.db, productId, new Date(now - ACTIVE_SITE_DAYS * 86_400_000));
  }
}
