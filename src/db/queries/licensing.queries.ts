import { and, count, desc, eq, ilike, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { checkins, codeSites, downloads, purchaseCodes, versions } from '../schema';

export type PurchaseCodeRow = typeof purchaseCodes.$inferSelect;
export type NewPurchaseCode = typeof purchaseCodes.$inferInsert;
export type CheckinRow = typeof checkins.$inferInsert;

export async function insertCodes(db: Db, rows: NewPurchaseCode[]): Promise<PurchaseCodeRow[]> {
  return db.insert(purchaseCodes).values(rows).returning();
}

/** The update check's reads, built once per database handle: drizzle takes ~150 µs to build a select. */
function prepareReads(db: Db) {
  return {
    findCode: db.select().from(purchaseCodes).where(eq(purchaseCodes.code, sql.placeholder('code'))).limit(1).prepare('wharf_find_code'),
    versionRefs: db
      .select({ id: versions.id, version: versions.version, releasedAt: versions.releasedAt })
      .from(versions)
      .where(and(eq(versions.productId, sql.placeholder('productId')), eq(versions.status, 'ready')))
      .prepare('wharf_version_refs'),
  };
}
const preparedReads = new WeakMap<Db, ReturnType<typeof prepareReads>>();
function reads(db: Db): ReturnType<typeof prepareReads> {
  let r = preparedReads.get(db);
  if (!r) preparedReads.set(db, (r = prepareReads(db)));
  return r;
}

export async function findCode(db: Db, code: string): Promise<PurchaseCodeRow | undefined> {
  const rows = await reads(db).findCode.execute({ code });
  return rows[0];
}

export async function findCodeOfProduct(db: Db, productId: string, codeId: string): Promise<PurchaseCodeRow | undefined> {
  const rows = await db
    .select()
    .from(purchaseCodes)
    .where(and(eq(purchaseCodes.productId, productId), eq(purchaseCodes.id, codeId)))
    .limit(1);
  return rows[0];
}

export type CodeStatusFilter = 'active' | 'expired' | 'exhausted' | 'revoked';

export function statusCondition(status: CodeStatusFilter, today: string): SQL {
  const expired = and(isNotNull(purchaseCodes.expiresOn), lt(purchaseCodes.expiresOn, today))!;
  const exhausted = and(isNotNull(purchaseCodes.maxDownloads), sql`${purchaseCodes.downloadsUsed} >= ${purchaseCodes.maxDownloads}`)!;
  switch (status) {
    case 'revoked':
      return isNotNull(purchaseCodes.revokedAt);
    case 'expired':
      return and(isNull(purchaseCodes.revokedAt), expired)!;
    case 'exhausted':
      return and(isNull(purchaseCodes.revokedAt), sql`not (${expired})`, exhausted)!;
    case 'active':
      return and(isNull(purchaseCodes.revokedAt), sql`not coalesce(${expired}, false)`, sql`not coalesce(${exhausted}, false)`)!;
  }
}

export async function listCodes(
  db: Db,
  productId: string,
  opts: { search?: string; status?: CodeStatusFilter; batchId?: string; today: string; limit: number; offset: number },
) {
  const conds: SQL[] = [eq(purchaseCodes.productId, productId)];
  if (opts.search) {
    const like = `%${opts.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const compact = opts.search.toUpperCase().replace(/[\s-]/g, '');
    conds.push(or(ilike(purchaseCodes.note, like), ilike(purchaseCodes.code, `%${compact.replace(/[\\%_]/g, (c) => `\\${c}`)}%`))!);
  }
  if (opts.status) conds.push(statusCondition(opts.status, opts.today));
  if (opts.batchId) conds.push(eq(purchaseCodes.batchId, opts.batchId));
  const where = and(...conds);
  const [rows, total] = await Promise.all([
    db.select().from(purchaseCodes).where(where).orderBy(desc(purchaseCodes.createdAt), purchaseCodes.code).limit(opts.limit).offset(opts.offset),
    db.select({ n: count() }).from(purchaseCodes).where(where),
  ]);
  return { rows, total: Number(total[0]?.n ?? 0) };
}

export async function setRevoked(db: Db, productId: string, codeId: string, revoked: boolean) {
  const rows = await db
    .update(purchaseCodes)
    .set({ revokedAt: revoked ? new Date() : null, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), eq(purchaseCodes.id, codeId)))
    .returning();
  return rows[0];
}

export function activeSites(db: Db, codeId: string) {
  return db
    .select({ host: codeSites.host, counts: codeSites.countsTowardLimit })
    .from(codeSites)
    .where(and(eq(codeSites.codeId, codeId), eq(codeSites.active, true)));
}

export function listSites(db: Db, codeId: string) {
  return db.select().from(codeSites).where(eq(codeSites.codeId, codeId)).orderBy(desc(codeSites.active), codeSites.firstSeenAt);
}

export function listDownloads(db: Db, codeId: string, limit = 200) {
  return db.select().from(downloads).where(eq(downloads.codeId, codeId)).orderBy(desc(downloads.createdAt)).limit(limit);
}

/** Lock the code row: site binding and counting happen one request at a time per code. */
export async function lockCode(db: Db, codeId: string): Promise<PurchaseCodeRow | undefined> {
  const rows = await db.select().from(purchaseCodes).where(eq(purchaseCodes.id, codeId)).for('update');
  return rows[0];
}

/** One atomic statement: exactly max_downloads of any number of concurrent downloads succeed. */
export async function countDownload(db: Db, codeId: string): Promise<boolean> {
  const rows = await db
    .update(purchaseCodes)
    .set({ downloadsUsed: sql`${purchaseCodes.downloadsUsed} + 1`, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.id, codeId), or(isNull(purchaseCodes.maxDownloads), lt(purchaseCodes.downloadsUsed, purchaseCodes.maxDownloads))))
    .returning({ id: purchaseCodes.id });
  return rows.length > 0;
}

/** Bind (or re-activate) a site; returns whether anything changed. */
export async function bindSite(db: Db, codeId: string, host: string, counts: boolean): Promise<boolean> {
  const rows = await db
    .insert(codeSites)
    .values({ codeId, host, countsTowardLimit: counts })
    .onConflictDoUpdate({
      target: [codeSites.codeId, codeSites.host],
      set: { active: true, deactivatedAt: null },
      setWhere: eq(codeSites.active, false),
    })
    .returning({ id: codeSites.id });
  if (rows.length) await bumpCodeRevision(db, codeId);
  return rows.length > 0;
}

export async function unbindSite(db: Db, codeId: string, host: string): Promise<boolean> {
  const rows = await db
    .update(codeSites)
    .set({ active: false, deactivatedAt: new Date() })
    .where(and(eq(codeSites.codeId, codeId), eq(codeSites.host, host), eq(codeSites.active, true)))
    .returning({ id: codeSites.id });
  if (rows.length) await bumpCodeRevision(db, codeId);
  return rows.length > 0;
}

async function bumpCodeRevision(db: Db, codeId: string): Promise<void> {
  await db.update(purchaseCodes).set({ revision: sql`${purchaseCodes.revision} + 1` }).where(eq(purchaseCodes.id, codeId));
}

export async function insertDownload(db: Db, v: typeof downloads.$inferInsert): Promise<void> {
  await db.insert(downloads).values(v);
}

/** One JSON parameter for the whole batch: drizzle takes ~66 ms to build a 1,000-row insert (8,000 parameters), blocking the event loop. */
export async function insertCheckins(db: Db, rows: CheckinRow[]): Promise<void> {
  if (!rows.length) return;
  const json = JSON.stringify(rows.map((r) => [r.productId, r.host ?? null, r.installedVersion ?? null, r.wpVersion ?? null, r.phpVersion ?? null, r.locale ?? null, r.codeId ?? null, r.checkedAt, r.checks ?? 1]));
  await db.execute(sql`insert into checkins (product_id, host, installed_version, wp_version, php_version, locale, code_id, checked_at, checks)
    select (r->>0)::uuid, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::uuid, (r->>7)::timestamptz, (r->>8)::int from json_array_elements(${json}::json) as r`);
}

export function versionRefs(db: Db, productId: string) {
  return reads(db).versionRefs.execute({ productId });
}
