import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { products, uploads, versions } from '../schema';

export type ProductRow = typeof products.$inferSelect;
export type NewProduct = typeof products.$inferInsert;
export type VersionRow = typeof versions.$inferSelect;
export type NewVersion = typeof versions.$inferInsert;
export type UploadRow = typeof uploads.$inferSelect;

export function listProducts(db: Db, userId: string) {
  return db.select().from(products).where(eq(products.userId, userId)).orderBy(products.name);
}

/** Scoped by owner: another vendor's id simply is not found. */
export async function findOwnedProduct(db: Db, userId: string, id: string): Promise<ProductRow | undefined> {
  const rows = await db
    .select()
    .from(products)
    .where(and(eq(products.id, id), eq(products.userId, userId)))
    .limit(1);
  return rows[0];
}

export async function findProduct(db: Db, id: string): Promise<ProductRow | undefined> {
  const rows = await db.select().from(products).where(eq(products.id, id)).limit(1);
  return rows[0];
}

/** undefined when the vendor already has a product of that type and slug. */
export async function insertProduct(db: Db, v: NewProduct): Promise<ProductRow | undefined> {
  const rows = await db.insert(products).values(v).onConflictDoNothing().returning();
  return rows[0];
}

export async function updateProduct(db: Db, userId: string, id: string, v: Partial<NewProduct>) {
  const rows = await db
    .update(products)
    .set({ ...v, updatedAt: new Date(), revision: sql`${products.revision} + 1` })
    .where(and(eq(products.id, id), eq(products.userId, userId)))
    .returning();
  return rows[0];
}

export async function deleteProduct(db: Db, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(products)
    .where(and(eq(products.id, id), eq(products.userId, userId)))
    .returning({ id: products.id });
  return rows.length > 0;
}

export function listVersions(db: Db, productId: string) {
  return db.select().from(versions).where(eq(versions.productId, productId)).orderBy(desc(versions.releasedAt));
}

export async function findVersion(db: Db, productId: string, versionId: string): Promise<VersionRow | undefined> {
  const rows = await db
    .select()
    .from(versions)
    .where(and(eq(versions.productId, productId), eq(versions.id, versionId)))
    .limit(1);
  return rows[0];
}

/** Only a verified version: what sites may be offered and download. */
export async function findReadyVersion(db: Db, productId: string, versionId: string): Promise<VersionRow | undefined> {
  const rows = await db
    .select()
    .from(versions)
    .where(and(eq(versions.productId, productId), eq(versions.id, versionId), eq(versions.status, 'ready')))
    .limit(1);
  return rows[0];
}

export async function findVersionByNumber(db: Db, productId: string, version: string): Promise<VersionRow | undefined> {
  const rows = await db
    .select()
    .from(versions)
    .where(and(eq(versions.productId, productId), eq(versions.version, version)))
    .limit(1);
  return rows[0];
}

export function listUploadKeysOfProduct(db: Db, productId: string) {
  return db.select({ key: uploads.s3Key }).from(uploads).where(eq(uploads.productId, productId));
}

export async function insertUpload(db: Db, v: typeof uploads.$inferInsert): Promise<UploadRow> {
  const rows = await db.insert(uploads).values(v).returning();
  return rows[0]!;
}

export async function findUpload(db: Db, productId: string, uploadId: string): Promise<UploadRow | undefined> {
  const rows = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.productId, productId), eq(uploads.id, uploadId)))
    .limit(1);
  return rows[0];
}

export async function findUploadByKey(db: Db, productId: string, key: string): Promise<UploadRow | undefined> {
  const rows = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.productId, productId), eq(uploads.s3Key, key)))
    .limit(1);
  return rows[0];
}

/** Moves an upload out of `pending` exactly once; false when another request got there first. */
export async function claimUpload(db: Db, uploadId: string, status: 'finalized' | 'refused', reasons: string[] | null) {
  const rows = await db
    .update(uploads)
    .set({ status, reasons })
    .where(and(eq(uploads.id, uploadId), eq(uploads.status, 'pending')))
    .returning({ id: uploads.id });
  return rows.length > 0;
}

export async function insertVersion(db: Db, v: NewVersion): Promise<VersionRow | undefined> {
  const rows = await db.insert(versions).values(v).onConflictDoNothing().returning();
  return rows[0];
}

export async function setLiveVersion(db: Db, productId: string, versionId: string | null) {
  await db
    .update(products)
    .set({ liveVersionId: versionId, updatedAt: new Date(), revision: sql`${products.revision} + 1` })
    .where(eq(products.id, productId));
}

export async function deleteVersionRow(db: Db, productId: string, versionId: string): Promise<boolean> {
  const rows = await db
    .delete(versions)
    .where(and(eq(versions.productId, productId), eq(versions.id, versionId)))
    .returning({ id: versions.id });
  return rows.length > 0;
}

/** A refused version keeps its row (and reasons) until the vendor uploads that number again. */
export async function deleteRefusedVersion(db: Db, productId: string, version: string): Promise<void> {
  await db.delete(versions).where(and(eq(versions.productId, productId), eq(versions.version, version), eq(versions.status, 'refused')));
}

/** Serializes the decisions that move the live pointer (two verifications finishing together). */
export async function lockProduct(db: Db, productId: string): Promise<ProductRow | undefined> {
  const rows = await db.select().from(products).where(eq(products.id, productId)).for('update').limit(1);
  return rows[0];
}

/** verifying → ready, exactly once; undefined when the version is gone or already decided. */
export async function markVersionReady(db: Db, versionId: string, sha256: string): Promise<VersionRow | undefined> {
  const rows = await db
    .update(versions)
    .set({ status: 'ready', sha256, reasons: null, verifiedBytes: sql`${versions.size}` })
    .where(and(eq(versions.id, versionId), eq(versions.status, 'verifying')))
    .returning();
  return rows[0];
}

export async function markVersionRefused(db: Db, versionId: string, reasons: string[]): Promise<VersionRow | undefined> {
  const rows = await db
    .update(versions)
    .set({ status: 'refused', reasons })
    .where(and(eq(versions.id, versionId), eq(versions.status, 'verifying')))
    .returning();
  return rows[0];
}

/** Progress of a running verification, which also tells other servers it is alive. */
export async function verificationHeartbeat(db: Db, versionId: string, verifiedBytes: number): Promise<void> {
  await db
    .update(versions)
    .set({ verifiedBytes, verifyHeartbeatAt: new Date() })
    .where(and(eq(versions.id, versionId), eq(versions.status, 'verifying')));
}

/** Verifications whose server stopped sending heartbeats (crashed, or restarted). */
export function staleVerifications(db: Db, olderThan: Date, limit: number) {
  return db
    .select({ id: versions.id })
    .from(versions)
    .where(and(eq(versions.status, 'verifying'), lt(versions.verifyHeartbeatAt, olderThan)))
    .orderBy(versions.verifyHeartbeatAt)
    .limit(limit);
}

/** Takes over a stale verification; undefined when another server got there first. */
export async function claimVerification(db: Db, versionId: string, olderThan: Date): Promise<VersionRow | undefined> {
  const rows = await db
    .update(versions)
    .set({ verifyHeartbeatAt: new Date(), verifyAttempts: sql`${versions.verifyAttempts} + 1`, verifiedBytes: 0 })
    .where(and(eq(versions.id, versionId), eq(versions.status, 'verifying'), lt(versions.verifyHeartbeatAt, olderThan)))
    .returning();
  return rows[0];
}

/** A change to what the update API may answer that does not move the live pointer. */
export async function bumpRevision(db: Db, productId: string): Promise<void> {
  await db.update(products).set({ revision: sql`${products.revision} + 1` }).where(eq(products.id, productId));
}

/** Upload slots past their policy's expiry (plus a grace): their objects and rows are swept. */
export function expiredUploads(db: Db, before: Date, limit: number) {
  return db.select({ id: uploads.id, s3Key: uploads.s3Key }).from(uploads).where(lt(uploads.expiresAt, before)).orderBy(uploads.expiresAt).limit(limit);
}

export async function deleteUploads(db: Db, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const rows = await db.delete(uploads).where(inArray(uploads.id, ids)).returning({ id: uploads.id });
  return rows.length;
}
