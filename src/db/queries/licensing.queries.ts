import { and, count, desc, eq, getTableColumns, ilike, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';
import { codeSites, downloads, purchaseCodes } from '../schema';
import { preparedFor } from './prepared';

export type PurchaseCodeRow = typeof purchaseCodes.$inferSelect;
export type NewPurchaseCode = typeof purchaseCodes.$inferInsert;

export async function insertCodes(db: Db, rows: NewPurchaseCode[]): Promise<PurchaseCodeRow[]> {
  return db.insert(purchaseCodes).values(rows).returning();
}

/** The catalog's reads of codes (every update check with an unknown code in process). */
const statements = preparedFor((db) => ({
  findCode: db.select().from(purchaseCodes).where(eq(purchaseCodes.code, sql.placeholder('code'))).limit(1).prepare('wharf_find_code'),
  activeSites: db
    .select({ host: codeSites.host, counts: codeSites.countsTowardLimit })
    .from(codeSites)
    .where(and(eq(codeSites.codeId, sql.placeholder('codeId')), eq(codeSites.active, true)))
    .prepare('wharf_active_sites'),
}));

export async function findCode(db: Db, code: string): Promise<PurchaseCodeRow | undefined> {
  return (await statements(db).findCode.execute({ code }))[0];
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
    conds.push(
      or(
        ilike(purchaseCodes.note, like),
        ilike(purchaseCodes.customerEmail, like),
        ilike(purchaseCodes.customerName, like),
        ilike(purchaseCodes.code, `%${compact.replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
      )!,
    );
  }
  if (opts.status) conds.push(statusCondition(opts.status, opts.today));
  if (opts.batchId) conds.push(eq(purchaseCodes.batchId, opts.batchId));
  const where = and(...conds);
  const [rows, total] = await Promise.all([
    db.select(withSitesUsed).from(purchaseCodes).where(where).orderBy(desc(purchaseCodes.createdAt), purchaseCodes.code).limit(opts.limit).offset(opts.offset),
    db.select({ n: count() }).from(purchaseCodes).where(where),
  ]);
  return { rows, total: Number(total[0]?.n ?? 0) };
}

/** A code's columns plus how many active sites use up one of its slots (the list's Sites column). */
const withSitesUsed = {
  ...getTableColumns(purchaseCodes),
  // Qualified by hand: drizzle would render bare column names, and "id" inside the subquery is code_sites.id.
  sitesUsed: sql<number>`(select count(*)::int from code_sites cs where cs.code_id = purchase_codes.id and cs.active and cs.counts_toward_limit)`,
};

export function codesByIds(db: Db, productId: string, ids: string[]) {
  return db
    .select(withSitesUsed)
    .from(purchaseCodes)
    .where(and(eq(purchaseCodes.productId, productId), inArray(purchaseCodes.id, ids)))
    .orderBy(desc(purchaseCodes.createdAt), purchaseCodes.code);
}

export type CodeChanges = Partial<Pick<NewPurchaseCode, 'expiresOn' | 'maxDownloads' | 'maxSites' | 'customerEmail' | 'customerName' | 'note'>> & { expiresAt?: string | null };

/** Applies an edit; every edit bumps the revision (cached verdicts carry it). */
export async function updateCode(db: Db, productId: string, codeId: string, changes: CodeChanges) {
  const { expiresAt, ...rest } = changes;
  const set = { ...rest, ...(expiresAt !== undefined ? { expiresOn: expiresAt } : {}) };
  const rows = await db
    .update(purchaseCodes)
    .set({ ...set, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), eq(purchaseCodes.id, codeId)))
    .returning();
  return rows[0];
}

/** Revokes those of the codes not yet revoked; returns the changed ones. */
export function revokeCodes(db: Db, productId: string, ids: string[]) {
  return db
    .update(purchaseCodes)
    .set({ revokedAt: new Date(), revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), inArray(purchaseCodes.id, ids), isNull(purchaseCodes.revokedAt)))
    .returning({ code: purchaseCodes.code, revision: purchaseCodes.revision });
}

export function setExpiryOfCodes(db: Db, productId: string, ids: string[], expiresOn: string | null) {
  return db
    .update(purchaseCodes)
    .set({ expiresOn, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), inArray(purchaseCodes.id, ids)))
    .returning({ code: purchaseCodes.code, revision: purchaseCodes.revision });
}

export async function setRevoked(db: Db, productId: string, codeId: string, revoked: boolean) {
  const rows = await db
    .update(purchaseCodes)
    .set({ revokedAt: revoked ? new Date() : null, revision: sql`${purchaseCodes.revision} + 1` })
    .where(and(eq(purchaseCodes.productId, productId), eq(purchaseCodes.id, codeId)))
    .returning();
  return rows[0];
}

/** Within a transaction the statement is built per call (prepared statements are per handle). */
export function activeSites(db: Db, codeId: string, inTransaction = false) {
  if (!inTransaction) return statements(db).activeSites.execute({ codeId });
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

export interface SiteChange {
  /** The code's new revision when the binding changed, else null. */
  revision: number | null;
  /** Whether the host was bound and active before this statement. */
  wasActive: boolean;
}

/**
 * Binds (or re-activates) a site. A counted site is bound only while fewer than `maxSites`
 * counted sites are active: exact when the caller holds the code's row lock (a later statement
 * sees every binding committed before it got the lock).
 */
export async function bindSite(db: Db, codeId: string, host: string, counts: boolean, maxSites: number | null): Promise<SiteChange> {
  const limit = counts && maxSites !== null ? maxSites : null;
  const result = await db.execute(sql`with ins as (
      insert into code_sites (code_id, host, counts_toward_limit)
      select ${codeId}::uuid, ${host}::text, ${counts}::boolean
      where ${limit}::int is null
         or (select count(*) from code_sites where code_id = ${codeId}::uuid and active and counts_toward_limit) < ${limit}::int
      on conflict (code_id, host) do update set active = true, deactivated_at = null where code_sites.active = false
      returning 1
    ), bump as (
      update purchase_codes set revision = revision + 1 where id = ${codeId}::uuid and exists (select 1 from ins) returning revision
    )
    select (select revision from bump) as revision,
           exists (select 1 from code_sites where code_id = ${codeId}::uuid and host = ${host}::text and active) as was_active`);
  const row = rowsOf<{ revision: number | null; was_active: boolean }>(result)[0]!;
  return { revision: row.revision === null ? null : Number(row.revision), wasActive: row.was_active };
}

/** Frees a site's slot; the code's new revision, or null when the site was not active. */
export async function unbindSite(db: Db, codeId: string, host: string): Promise<number | null> {
  const result = await db.execute(sql`with off as (
      update code_sites set active = false, deactivated_at = now()
      where code_id = ${codeId}::uuid and host = ${host}::text and active returning 1
    )
    update purchase_codes set revision = revision + 1 where id = ${codeId}::uuid and exists (select 1 from off) returning revision`);
  const row = rowsOf<{ revision: number }>(result)[0];
  return row ? Number(row.revision) : null;
}
