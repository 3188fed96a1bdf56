import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { checkins, products, purchaseCodes } from '../schema';

/** Taken (transaction-scoped) by every write to product_sites and the analytics rollups. Any fixed 64-bit number. */
export const ANALYTICS_WRITE_LOCK = 7_305_331_917;

export type CheckinRow = typeof checkins.$inferInsert;

/**
 * Writes a batch of check-ins and, in the same statement, what analytics reads: each site's latest check
 * (product_sites, upserted), and the daily rollups. A site is added to a day's (dimension, value) count only
 * when its membership row is new (analytics_site_days, ON CONFLICT DO NOTHING), so the daily distinct counts
 * are exact however many checks, flushes and app servers there are. Rows are sorted so concurrent flushes take
 * row locks in one order.
 *
 * Each site's move between days and values is also kept in analytics_last_seen_daily, so window breakdowns sum
 * a few rows per day instead of reading every site.
 *
 * One JSON parameter for the whole batch: drizzle takes ~66 ms to build a 1,000-row insert (8,000 parameters), blocking the event loop.
 */
export async function insertCheckins(db: Db, rows: CheckinRow[]): Promise<void> {
  if (!rows.length) return;
  // Flushes (every app server's), erasures and rebuilds take turns: each reads a site's previous state to move it.
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ANALYTICS_WRITE_LOCK})`);
    await writeBatch(tx as unknown as Db, rows);
  });
}

async function writeBatch(db: Db, rows: CheckinRow[]): Promise<void> {
  const json = JSON.stringify(rows.map((r) => [r.productId, r.host ?? null, r.installedVersion ?? null, r.wpVersion ?? null, r.phpVersion ?? null, r.locale ?? null, r.codeId ?? null, r.checkedAt, r.checks ?? 1, r.license ?? null]));
  await db.execute(sql`with input as (
      select (r->>0)::uuid as product_id, r->>1 as host, r->>2 as installed_version, r->>3 as wp_version, r->>4 as php_version, r->>5 as locale,
        (r->>6)::uuid as code_id, (r->>7)::timestamptz as checked_at, (r->>8)::int as checks, coalesce(r->>9, 'none') as license
      from json_array_elements(${json}::json) as r
    ), raw as (
      insert into checkins (product_id, host, installed_version, wp_version, php_version, locale, code_id, checked_at, checks, license)
      select product_id, host, installed_version, wp_version, php_version, locale, code_id, checked_at, checks, license from input
    ), latest as (
      select distinct on (product_id, host) product_id, host, installed_version, wp_version, php_version, locale, license, checked_at,
        min(checked_at) over w as first_seen, sum(checks) over w as total
      from input where host is not null
      window w as (partition by product_id, host)
      order by product_id, host, checked_at desc
    ), old as (
      select s.product_id, s.host, s.installed_version, s.wp_version, s.php_version, s.locale, s.license, s.last_seen_at
      from product_sites s join latest l on l.product_id = s.product_id and l.host = s.host
    ), moved as (
      -- Sites whose latest state changes: out of their old (day, values), into the new ones.
      select l.*, o.host is not null as had, o.installed_version as o_version, o.wp_version as o_wp, o.php_version as o_php, o.locale as o_locale,
        o.license as o_license, o.last_seen_at as o_seen
      from latest l left join old o on o.product_id = l.product_id and o.host = l.host
      where o.host is null or l.checked_at >= o.last_seen_at
    ), deltas as (
      select m.product_id, (m.o_seen at time zone 'UTC')::date as day, d.dimension, d.value, -1 as n
      from moved m cross join lateral (values ('all', ''), ('version', coalesce(m.o_version, '')), ('wordpress', coalesce(m.o_wp, '')),
        ('php', coalesce(m.o_php, '')), ('locale', coalesce(m.o_locale, '')), ('license', m.o_license)) as d(dimension, value)
      where m.had
      union all
      select m.product_id, (m.checked_at at time zone 'UTC')::date, d.dimension, d.value, 1
      from moved m cross join lateral (values ('all', ''), ('version', coalesce(m.installed_version, '')), ('wordpress', coalesce(m.wp_version, '')),
        ('php', coalesce(m.php_version, '')), ('locale', coalesce(m.locale, '')), ('license', m.license)) as d(dimension, value)
    ), last_seen as (
      insert into analytics_last_seen_daily as x (product_id, day, dimension, value, sites)
      select product_id, day, dimension, value, sum(n)::int from deltas group by 1, 2, 3, 4 having sum(n) <> 0 order by 1, 2, 3, 4
      on conflict (product_id, day, dimension, value) do update set sites = x.sites + excluded.sites
    ), sites as (
      insert into product_sites as s (product_id, host, installed_version, wp_version, php_version, locale, license, first_seen_at, last_seen_at, checks)
      select product_id, host, installed_version, wp_version, php_version, locale, license, first_seen, checked_at, total from latest order by product_id, host
      on conflict (product_id, host) do update set
        installed_version = case when excluded.last_seen_at >= s.last_seen_at then excluded.installed_version else s.installed_version end,
        wp_version = case when excluded.last_seen_at >= s.last_seen_at then excluded.wp_version else s.wp_version end,
        php_version = case when excluded.last_seen_at >= s.last_seen_at then excluded.php_version else s.php_version end,
        locale = case when excluded.last_seen_at >= s.last_seen_at then excluded.locale else s.locale end,
        license = case when excluded.last_seen_at >= s.last_seen_at then excluded.license else s.license end,
        first_seen_at = least(s.first_seen_at, excluded.first_seen_at),
        last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
        checks = s.checks + excluded.checks
    ), members as (
      select distinct i.product_id, (i.checked_at at time zone 'UTC')::date as day, d.dimension, d.value, i.host
      from input i cross join lateral (values ('all', ''), ('version', coalesce(i.installed_version, '')), ('wordpress', coalesce(i.wp_version, '')),
        ('php', coalesce(i.php_version, '')), ('locale', coalesce(i.locale, '')), ('license', i.license)) as d(dimension, value)
      where i.host is not null
    ), fresh as (
      insert into analytics_site_days (product_id, day, dimension, value, host)
      select product_id, day, dimension, value, host from members order by 1, 2, 3, 4, 5
      on conflict do nothing
      returning product_id, day, dimension, value
    ), counts as (
      select product_id, day, dimension, value, count(*)::int as sites, 0::bigint as checks from fresh group by 1, 2, 3, 4
      union all
      select product_id, (checked_at at time zone 'UTC')::date, 'all', '', 0, sum(checks)::bigint from input group by 1, 2
    )
    insert into analytics_daily as a (product_id, day, dimension, value, sites, checks)
    select product_id, day, dimension, value, sum(sites)::int, sum(checks)::bigint from counts group by 1, 2, 3, 4 order by 1, 3, 2, 4
    on conflict (product_id, dimension, day, value) do update set sites = a.sites + excluded.sites, checks = a.checks + excluded.checks`);
}

/** Which of these products and codes still exist (a batch naming a deleted one is refused whole). */
export async function existingRefs(db: Db, productIds: string[], codeIds: string[]) {
  const p = await db.select({ id: products.id }).from(products).where(inArray(products.id, productIds));
  const c = codeIds.length ? await db.select({ id: purchaseCodes.id }).from(purchaseCodes).where(inArray(purchaseCodes.id, codeIds)) : [];
  return { products: new Set(p.map((r) => r.id)), codes: new Set(c.map((r) => r.id)) };
}
