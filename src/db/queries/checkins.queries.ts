import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { checkins, products, purchaseCodes } from '../schema';

export type CheckinRow = typeof checkins.$inferInsert;

/** One JSON parameter for the whole batch: drizzle takes ~66 ms to build a 1,000-row insert (8,000 parameters), blocking the event loop. */
export async function insertCheckins(db: Db, rows: CheckinRow[]): Promise<void> {
  if (!rows.length) return;
  const json = JSON.stringify(rows.map((r) => [r.productId, r.host ?? null, r.installedVersion ?? null, r.wpVersion ?? null, r.phpVersion ?? null, r.locale ?? null, r.codeId ?? null, r.checkedAt, r.checks ?? 1]));
  await db.execute(sql`insert into checkins (product_id, host, installed_version, wp_version, php_version, locale, code_id, checked_at, checks)
    select (r->>0)::uuid, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::uuid, (r->>7)::timestamptz, (r->>8)::int from json_array_elements(${json}::json) as r`);
}

/** Which of these products and codes still exist (a batch naming a deleted one is refused whole). */
export async function existingRefs(db: Db, productIds: string[], codeIds: string[]) {
  const p = await db.select({ id: products.id }).from(products).where(inArray(products.id, productIds));
  const c = codeIds.length ? await db.select({ id: purchaseCodes.id }).from(purchaseCodes).where(inArray(purchaseCodes.id, codeIds)) : [];
  return { products: new Set(p.map((r) => r.id)), codes: new Set(c.map((r) => r.id)) };
}
