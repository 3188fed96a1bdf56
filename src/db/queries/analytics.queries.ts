import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';
import { ANALYTICS_WRITE_LOCK } from './checkins.queries';

/** Raw check-ins are range-partitioned by month; partitions are named checkins_pYYYYMM, plus checkins_default. */
export const PARTITION_PREFIX = 'checkins_p';

const monthName = (m: Date) => `${PARTITION_PREFIX}${m.getUTCFullYear()}${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
const nextMonth = (m: Date) => new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
export const monthStart = (t: Date) => new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));

/** The month partitions that exist, oldest first. */
export async function checkinPartitions(db: Db): Promise<{ name: string; from: Date; to: Date }[]> {
  const rows = rowsOf<{ name: string }>(
    await db.execute(sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
      where p.relname = 'checkins' and c.relname like ${PARTITION_PREFIX + '%'} order by 1`),
  );
  return rows.flatMap(({ name }) => {
    const m = /^checkins_p(\d{4})(\d{2})$/.exec(name);
    if (!m) return [];
    const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
    return [{ name, from, to: nextMonth(from) }];
  });
}

/** Months that rows in the default partition fall into (rows that arrived before their month's partition existed). */
export async function defaultPartitionMonths(db: Db): Promise<Date[]> {
  const rows = rowsOf<{ m: string }>(await db.execute(sql`select distinct to_char(date_trunc('month', checked_at at time zone 'UTC'), 'YYYY-MM-DD') as m from checkins_default`));
  return rows.map((r) => new Date(`${r.m}T00:00:00Z`));
}

/**
 * Creates the partition for the month starting at `month`, moving any rows the default partition holds for it
 * (attaching a partition whose range has rows in the default partition would fail). One transaction.
 */
export async function createMonthPartition(db: Db, month: Date): Promise<string> {
  const name = monthName(month);
  const from = month.toISOString();
  const to = nextMonth(month).toISOString();
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local lock_timeout = '5s'`);
    await tx.execute(sql.raw(`create table if not exists "${name}" (like checkins including defaults)`));
    await tx.execute(
      sql.raw(`with moved as (delete from checkins_default where checked_at >= '${from}' and checked_at < '${to}' returning *) insert into "${name}" select * from moved`),
    );
    await tx.execute(sql.raw(`alter table checkins attach partition "${name}" for values from ('${from}') to ('${to}')`));
  });
  return name;
}

export async function dropPartition(db: Db, name: string): Promise<void> {
  if (!/^checkins_p\d{6}$/.test(name)) throw new Error(`not a check-in partition: ${name}`);
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local lock_timeout = '5s'`);
    await tx.execute(sql.raw(`drop table "${name}"`));
  });
}

/** Rows older than `cutoff` left in the default partition (dropped with the partitions' retention). */
export async function deleteDefaultBefore(db: Db, cutoff: Date): Promise<void> {
  await db.execute(sql`delete from checkins_default where checked_at < ${cutoff.toISOString()}::timestamptz`);
}

/** Membership of days no flush will add to any more. */
export async function pruneSiteDays(db: Db, beforeDay: string): Promise<void> {
  await db.execute(sql`delete from analytics_site_days where day < ${beforeDay}::date`);
  await db.execute(sql`delete from analytics_last_seen_daily where sites = 0`);
}

/** Runs `fn` only where this transaction-scoped advisory lock is free: one app server at a time. */
export async function withTryLock<T>(db: Db, key: number, fn: (tx: Db) => Promise<T>): Promise<T | undefined> {
  return db.transaction(async (tx) => {
    const got = rowsOf<{ ok: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${key}) as ok`))[0]?.ok;
    return got ? fn(tx as unknown as Db) : undefined;
  });
}

/**
 * Recomputes product_sites and the daily rollups from the raw check-ins still kept (days older than the raw
 * data are left as they are: rollups are kept for ever). Flushes wait meanwhile (table locks).
 */
export async function rebuildAnalytics(db: Db, recentDays: number): Promise<{ days: number; sites: number }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ANALYTICS_WRITE_LOCK})`);
    const first = rowsOf<{ d: string | null }>(await tx.execute(sql`select to_char(min(checked_at at time zone 'UTC'), 'YYYY-MM-DD') as d from checkins`))[0]?.d;
    if (!first) return { days: 0, sites: 0 };
    await tx.execute(sql`insert into product_sites as s (product_id, host, installed_version, wp_version, php_version, locale, license, first_seen_at, last_seen_at, checks)
      select distinct on (product_id, host) product_id, host, installed_version, wp_version, php_version, locale,
        coalesce(license, case when code_id is null then 'none' else 'valid' end), min(checked_at) over w, checked_at, sum(checks) over w
      from checkins where host is not null
      window w as (partition by product_id, host)
      order by product_id, host, checked_at desc
      on conflict (product_id, host) do update set installed_version = excluded.installed_version, wp_version = excluded.wp_version,
        php_version = excluded.php_version, locale = excluded.locale, license = excluded.license,
        first_seen_at = least(s.first_seen_at, excluded.first_seen_at), last_seen_at = excluded.last_seen_at, checks = excluded.checks`);
    await tx.execute(sql`delete from analytics_daily where day >= ${first}::date`);
    await tx.execute(sql`insert into analytics_daily (product_id, day, dimension, value, sites, checks)
      select product_id, day,
        case when grouping(v) = 0 then 'version' when grouping(wp) = 0 then 'wordpress' when grouping(php) = 0 then 'php'
             when grouping(loc) = 0 then 'locale' when grouping(lic) = 0 then 'license' else 'all' end,
        coalesce(case when grouping(v) = 0 then v when grouping(wp) = 0 then wp when grouping(php) = 0 then php
             when grouping(loc) = 0 then loc when grouping(lic) = 0 then lic end, ''),
        count(distinct host)::int,
        case when grouping(v) + grouping(wp) + grouping(php) + grouping(loc) + grouping(lic) = 5 then sum(checks) else 0 end
      from (select product_id, (checked_at at time zone 'UTC')::date as day, host, checks, coalesce(installed_version, '') as v,
              coalesce(wp_version, '') as wp, coalesce(php_version, '') as php, coalesce(locale, '') as loc,
              coalesce(license, case when code_id is null then 'none' else 'valid' end) as lic from checkins) c
      group by grouping sets ((product_id, day), (product_id, day, v), (product_id, day, wp), (product_id, day, php), (product_id, day, loc), (product_id, day, lic))
      having count(distinct host) > 0 or (grouping(v) + grouping(wp) + grouping(php) + grouping(loc) + grouping(lic) = 5)`);
    await tx.execute(sql`delete from analytics_site_days`);
    await tx.execute(sql`insert into analytics_site_days (product_id, day, dimension, value, host)
      select distinct i.product_id, i.day, d.dimension, d.value, i.host
      from (select product_id, (checked_at at time zone 'UTC')::date as day, host, installed_version, wp_version, php_version, locale,
              coalesce(license, case when code_id is null then 'none' else 'valid' end) as license
            from checkins where host is not null and checked_at >= (current_date - ${recentDays}::int)) i
      cross join lateral (values ('all', ''), ('version', coalesce(i.installed_version, '')), ('wordpress', coalesce(i.wp_version, '')),
        ('php', coalesce(i.php_version, '')), ('locale', coalesce(i.locale, '')), ('license', i.license)) as d(dimension, value)`);
    await tx.execute(sql`delete from analytics_last_seen_daily`);
    await tx.execute(sql`insert into analytics_last_seen_daily (product_id, day, dimension, value, sites)
      select s.product_id, (s.last_seen_at at time zone 'UTC')::date, d.dimension, d.value, count(*)::int
      from product_sites s cross join lateral (values ('all', ''), ('version', coalesce(s.installed_version, '')), ('wordpress', coalesce(s.wp_version, '')),
        ('php', coalesce(s.php_version, '')), ('locale', coalesce(s.locale, '')), ('license', s.license)) as d(dimension, value)
      group by 1, 2, 3, 4`);
    const days = rowsOf<{ n: number }>(await tx.execute(sql`select count(distinct day)::int as n from analytics_daily where day >= ${first}::date`))[0]?.n ?? 0;
    const sites = rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from product_sites`))[0]?.n ?? 0;
    return { days, sites };
  });
}

// ---- Reports: every read below touches rollups or product_sites only, never the raw check-ins. ----

export interface Breakdown {
  dimension: 'version' | 'wordpress' | 'php' | 'locale' | 'license';
  value: string;
  sites: number;
}

/** Sites whose latest check is on or after the day of `since`, each counted once by that check, per dimension value. */
export async function siteBreakdown(db: Db, productId: string, since: Date): Promise<Breakdown[]> {
  return rowsOf<Breakdown>(
    await db.execute(sql`select dimension, value, sum(sites)::int as sites from analytics_last_seen_daily
      where product_id = ${productId} and day >= ${since.toISOString().slice(0, 10)}::date and dimension <> 'all'
      group by 1, 2 having sum(sites) > 0`),
  );
}

/** Distinct sites last seen on or after the day of each cutoff. */
export async function activeSiteCounts(db: Db, productId: string, cutoffs: Date[]): Promise<number[]> {
  const day = (c: Date) => c.toISOString().slice(0, 10);
  const row = rowsOf<{ counts: (number | null)[] }>(
    await db.execute(sql`select array[${sql.join(
      cutoffs.map((c) => sql`coalesce(sum(sites) filter (where day >= ${day(c)}::date), 0)::int`),
      sql`, `,
    )}] as counts from analytics_last_seen_daily where product_id = ${productId} and dimension = 'all' and day >= ${day(new Date(Math.min(...cutoffs.map((c) => c.getTime()))))}::date`),
  )[0];
  return (row?.counts ?? cutoffs.map(() => 0)).map((n) => Number(n ?? 0));
}

export interface DailyRow {
  day: string;
  dimension: string;
  value: string;
  sites: number;
  checks: number;
}

/** Rollup rows of the given dimensions, days in [from, to] (YYYY-MM-DD, UTC). */
export async function dailyRollups(db: Db, productId: string, dimensions: string[], from: string, to: string): Promise<DailyRow[]> {
  return rowsOf<DailyRow>(
    await db.execute(sql`select to_char(day, 'YYYY-MM-DD') as day, dimension, value, sites, checks::float8 as checks from analytics_daily
      where product_id = ${productId} and dimension in (${sql.join(dimensions.map((d) => sql`${d}`), sql`, `)}) and day between ${from}::date and ${to}::date
      order by day, dimension, value`),
  );
}

/** Downloads per UTC day in [from, to]. */
export async function dailyDownloads(db: Db, productId: string, from: string, to: string): Promise<{ day: string; downloads: number }[]> {
  return rowsOf<{ day: string; downloads: number }>(
    await db.execute(sql`select to_char((created_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, count(*)::int as downloads from downloads
      where product_id = ${productId} and created_at >= ${from}::date::timestamp at time zone 'UTC' and created_at < (${to}::date + 1)::timestamp at time zone 'UTC'
      group by 1 order by 1`),
  );
}

export interface SiteRow {
  host: string;
  installedVersion: string | null;
  wpVersion: string | null;
  phpVersion: string | null;
  locale: string | null;
  license: string;
  lastSeenAt: Date;
}

/** A page of sites seen at or after `since`, most recent first; `search` matches the host (substring). */
export async function listSites(db: Db, productId: string, since: Date, search: string, limit: number, offset: number): Promise<{ rows: SiteRow[]; total: number }> {
  const filter = search ? sql` and strpos(host, ${search.toLowerCase()}) > 0` : sql``;
  const where = sql`product_id = ${productId} and last_seen_at >= ${since.toISOString()}::timestamptz${filter}`;
  const rows = rowsOf<SiteRow & { lastSeenAt: Date | string }>(
    await db.execute(sql`select host, installed_version as "installedVersion", wp_version as "wpVersion", php_version as "phpVersion", locale, license,
      last_seen_at as "lastSeenAt" from product_sites where ${where} order by last_seen_at desc, host limit ${limit} offset ${offset}`),
  );
  // Without a search the total is a sum over days (the same sites, without reading each of them).
  const total = search
    ? (rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from product_sites where ${where}`))[0]?.n ?? 0)
    : ((await activeSiteCounts(db, productId, [since]))[0] ?? 0);
  return { rows: rows.map((r) => ({ ...r, lastSeenAt: new Date(r.lastSeenAt) })), total };
}

/** Per product: sites active in the last 7 days and downloads in the last 30, for the products list. */
export async function overviewCounts(db: Db, productIds: string[], since7: Date, since30: Date): Promise<Map<string, { active7: number; downloads30: number }>> {
  const out = new Map<string, { active7: number; downloads30: number }>();
  if (!productIds.length) return out;
  const ids = sql.join(productIds.map((id) => sql`${id}::uuid`), sql`, `);
  const a = rowsOf<{ id: string; n: number }>(
    await db.execute(sql`select product_id as id, sum(sites)::int as n from analytics_last_seen_daily where product_id in (${ids}) and dimension = 'all' and day >= ${since7.toISOString().slice(0, 10)}::date group by 1`),
  );
  const d = rowsOf<{ id: string; n: number }>(await db.execute(sql`select product_id as id, count(*)::int as n from downloads where product_id in (${ids}) and created_at >= ${since30.toISOString()}::timestamptz group by 1`));
  for (const id of productIds) out.set(id, { active7: 0, downloads30: 0 });
  for (const r of a) out.get(r.id)!.active7 = Number(r.n);
  for (const r of d) out.get(r.id)!.downloads30 = Number(r.n);
  return out;
}

/** Daily active sites per product over [from, to], for the overview sparklines. */
export async function overviewDaily(db: Db, productIds: string[], from: string, to: string): Promise<{ id: string; day: string; sites: number }[]> {
  if (!productIds.length) return [];
  const ids = sql.join(productIds.map((id) => sql`${id}::uuid`), sql`, `);
  return rowsOf<{ id: string; day: string; sites: number }>(
    await db.execute(sql`select product_id as id, to_char(day, 'YYYY-MM-DD') as day, sites from analytics_daily
      where product_id in (${ids}) and dimension = 'all' and value = '' and day between ${from}::date and ${to}::date order by 1, 2`),
  );
}

/** Erases everything kept about one site of one product (rollups hold counts only, no host, and stay). */
export async function eraseSite(db: Db, productId: string, host: string): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${ANALYTICS_WRITE_LOCK})`);
    // Out of the last-seen counts first (daily rollups keep their counts: they hold no host).
    await tx.execute(sql`with gone as (select * from product_sites where product_id = ${productId} and host = ${host})
      update analytics_last_seen_daily x set sites = x.sites - 1 from gone s cross join lateral (values ('all', ''), ('version', coalesce(s.installed_version, '')),
        ('wordpress', coalesce(s.wp_version, '')), ('php', coalesce(s.php_version, '')), ('locale', coalesce(s.locale, '')), ('license', s.license)) as d(dimension, value)
      where x.product_id = s.product_id and x.day = (s.last_seen_at at time zone 'UTC')::date and x.dimension = d.dimension and x.value = d.value`);
    const raw = rowsOf<{ n: number }>(await tx.execute(sql`with d as (delete from checkins where product_id = ${productId} and host = ${host} returning 1) select count(*)::int as n from d`))[0]?.n ?? 0;
    const site = rowsOf<{ n: number }>(await tx.execute(sql`with d as (delete from product_sites where product_id = ${productId} and host = ${host} returning 1) select count(*)::int as n from d`))[0]?.n ?? 0;
    await tx.execute(sql`delete from analytics_site_days where product_id = ${productId} and host = ${host}`);
    await tx.execute(sql`update downloads set host = null where product_id = ${productId} and host = ${host}`);
    return Number(raw) + Number(site);
  });
}

/** Active sites since the day of `since` (7 days for the plugin JSON's active_installs). */
export async function activeInstallCount(db: Db, productId: string, since: Date): Promise<number> {
  return (await activeSiteCounts(db, productId, [since]))[0] ?? 0;
}

/** The live version's number and release time, if any. */
export async function liveVersion(db: Db, productId: string): Promise<{ version: string; releasedAt: Date } | null> {
  const r = rowsOf<{ version: string; releasedAt: Date | string }>(
    await db.execute(sql`select v.version, v.released_at as "releasedAt" from products p join versions v on v.id = p.live_version_id where p.id = ${productId}`),
  )[0];
  return r ? { version: r.version, releasedAt: new Date(r.releasedAt) } : null;
}
