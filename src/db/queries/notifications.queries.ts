import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../schema';
import { CODE_REF_SQL, PRODUCT_REF_SQL } from './events.queries';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type NewEndpoint = typeof webhookEndpoints.$inferInsert;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

export async function insertEndpoint(db: Db, v: NewEndpoint): Promise<EndpointRow> {
  return (await db.insert(webhookEndpoints).values(v).returning())[0]!;
}

export function listEndpoints(db: Db, userId: string): Promise<EndpointRow[]> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.userId, userId)).orderBy(webhookEndpoints.createdAt);
}

/** Tenant-scoped: another vendor's endpoint is not found. */
export async function findEndpoint(db: Db, userId: string, id: string): Promise<EndpointRow | undefined> {
  return (await db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId))))[0];
}

export async function deleteEndpoint(db: Db, userId: string, id: string): Promise<boolean> {
  return (await db.delete(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId))).returning({ id: webhookEndpoints.id })).length > 0;
}

export async function enableEndpoint(db: Db, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .update(webhookEndpoints)
    .set({ disabledAt: null, disabledReason: null, consecutiveFailures: 0 })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.userId, userId)))
    .returning({ id: webhookEndpoints.id });
  return rows.length > 0;
}

export async function insertDelivery(db: Db, v: typeof webhookDeliveries.$inferInsert): Promise<DeliveryRow> {
  return (await db.insert(webhookDeliveries).values(v).returning())[0]!;
}

export function listDeliveries(db: Db, endpointId: string, limit = 100): Promise<DeliveryRow[]> {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId)).orderBy(desc(webhookDeliveries.createdAt)).limit(limit);
}

export function attemptsOf(db: Db, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (!deliveryIds.length) return Promise.resolve([]);
  return db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, deliveryIds)).orderBy(webhookAttempts.deliveryId, webhookAttempts.attempt);
}

/** Sends a delivery again with the same webhook-id, with a fresh 24-hour retry window. */
export async function redeliver(db: Db, endpointId: string, deliveryId: string): Promise<boolean> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ status: 'pending', nextAttemptAt: sql`now()`, lockedUntil: null, finishedAt: null, giveUpAt: sql`now() + interval '24 hours'` })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
}

/**
 * Fans undelivered outbox events out to a delivery per matching endpoint (same vendor, event
 * chosen, product in its filter, not disabled), and marks them dispatched, in one statement.
 * SKIP LOCKED: app servers running this at once take disjoint events.
 */
export async function dispatchEvents(db: Db, limit: number): Promise<number> {
  const result = await db.execute(sql`with ev as (
      select id, user_id, product_id, type, data, created_at from events
      where dispatched_at is null order by created_at limit ${limit} for update skip locked
    ), ins as (
      insert into webhook_deliveries (endpoint_id, event_id, event_type, payload)
      select e.id, ev.id, ev.type,
             jsonb_build_object('type', ev.type, 'timestamp', to_char(ev.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', ev.data)
      from ev join webhook_endpoints e on e.user_id = ev.user_id and e.disabled_at is null and ev.type = any(e.events)
        and (e.product_ids is null or ev.product_id = any(e.product_ids))
      returning 1
    )
    update events set dispatched_at = now() where id in (select id from ev) returning (select count(*) from ins) as deliveries`);
  // One row per event dispatched.
  return rowsOf(result).length;
}

export interface ClaimedDelivery extends DeliveryRow {
  kind: 'webhook' | 'slack' | 'discord';
  url: string;
  secret: string | null;
}

/**
 * Leases due deliveries to this worker until now + leaseMs and counts the attempt. A worker that
 * dies mid-send leaves the lease to lapse; the next claim sends again with the same webhook-id.
 */
export async function claimDue(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const result = await db.execute(sql`update webhook_deliveries d
      set locked_until = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1
    from webhook_endpoints e
    where e.id = d.endpoint_id and d.id in (
      select d2.id from webhook_deliveries d2 join webhook_endpoints e2 on e2.id = d2.endpoint_id
      where d2.status = 'pending' and d2.next_attempt_at <= now() and (d2.locked_until is null or d2.locked_until < now()) and e2.disabled_at is null
      order by d2.next_attempt_at limit ${limit} for update of d2 skip locked)
    returning d.id, d.endpoint_id, d.event_type, d.payload, d.attempts, d.give_up_at, d.created_at, e.kind, e.url, e.secret`);
  return rowsOf<Record<string, unknown>>(result).map((r) => ({
    id: r.id as string,
    endpointId: r.endpoint_id as string,
    eventId: null,
    eventType: r.event_type as string,
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as DeliveryRow['payload'],
    status: 'pending',
    attempts: Number(r.attempts),
    nextAttemptAt: new Date(),
    lockedUntil: null,
    giveUpAt: new Date(r.give_up_at as string),
    lastStatusCode: null,
    lastError: null,
    createdAt: new Date(r.created_at as string),
    finishedAt: null,
    kind: r.kind as ClaimedDelivery['kind'],
    url: r.url as string,
    secret: (r.secret as string | null) ?? null,
  }));
}

export interface AttemptOutcome {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  snippet: string | null;
  /** delivered, retry at nextAttemptAt, or failed for good. */
  result: 'delivered' | 'retry' | 'failed';
  nextAttemptAt?: Date;
}

/** Logs the attempt and moves the delivery (and the endpoint's failure streak) on, in one transaction. */
export async function recordOutcome(db: Db, o: AttemptOutcome, disableAfter: number): Promise<{ disabled: boolean }> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await t.insert(webhookAttempts).values({ deliveryId: o.deliveryId, attempt: o.attempt, statusCode: o.statusCode, error: o.error, durationMs: o.durationMs, responseSnippet: o.snippet });
    const common = { lockedUntil: null, lastStatusCode: o.statusCode, lastError: o.error };
    if (o.result === 'retry') {
      await t.update(webhookDeliveries).set({ ...common, nextAttemptAt: o.nextAttemptAt! }).where(eq(webhookDeliveries.id, o.deliveryId));
      return { disabled: false };
    }
    await t.update(webhookDeliveries).set({ ...common, status: o.result, finishedAt: sql`now()` }).where(eq(webhookDeliveries.id, o.deliveryId));
    if (o.result === 'delivered') {
      await t.update(webhookEndpoints).set({ consecutiveFailures: 0 }).where(eq(webhookEndpoints.id, o.endpointId));
      return { disabled: false };
    }
    const rows = rowsOf<{ disabled: boolean }>(
      await t.execute(sql`update webhook_endpoints set consecutive_failures = consecutive_failures + 1,
          disabled_at = case when disabled_at is null and consecutive_failures + 1 >= ${disableAfter} then now() else disabled_at end,
          disabled_reason = case when disabled_at is null and consecutive_failures + 1 >= ${disableAfter}
            then ${`Disabled after ${disableAfter} deliveries in a row failed; the last: `} || ${o.error ?? `HTTP ${o.statusCode}`} else disabled_reason end
        where id = ${o.endpointId}::uuid returning disabled_at is not null as disabled`),
    );
    return { disabled: !!rows[0]?.disabled };
  });
}

/**
 * code.expiring: once per code and expiry date, for codes (not revoked) expiring within 7 days;
 * the notice row and the event are written by the same statement.
 */
export async function recordExpiringCodes(db: Db): Promise<number> {
  const result = await db.execute(sql`with due as (
      select c.id, c.expires_on from purchase_codes c
      where c.revoked_at is null and c.expires_on >= current_date and c.expires_on <= current_date + 7
    ), fresh as (
      insert into code_expiry_notices (code_id, expires_on) select id, expires_on from due on conflict do nothing returning code_id
    )
    insert into events (user_id, product_id, type, data)
    select p.user_id, p.id, 'code.expiring', jsonb_build_object('product', ${PRODUCT_REF_SQL}, 'code', ${CODE_REF_SQL}, 'expiresOn', c.expires_on::text)
    from fresh f join purchase_codes c on c.id = f.code_id join products p on p.id = c.product_id
    returning 1`);
  return rowsOf(result).length;
}

/** The delivery log keeps finished deliveries (and their attempts) this many days. */
export async function purgeFinishedDeliveries(db: Db, olderThanDays: number): Promise<number> {
  const rows = await db.execute(sql`delete from webhook_deliveries where status <> 'pending' and finished_at < now() - ${olderThanDays} * interval '1 day' returning 1`);
  return rowsOf(rows).length;
}

export async function countEndpoints(db: Db, userId: string): Promise<number> {
  const rows = rowsOf<{ n: number | string }>(await db.execute(sql`select count(*) as n from webhook_endpoints where user_id = ${userId}::uuid`));
  return Number(rows[0]?.n ?? 0);
}
