import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { rowsOf } from '../rows';
import { bindSite } from './licensing.queries';
import { CODE_REF_SQL, PRODUCT_REF_SQL, insertCodeEvent } from './events.queries';
import { preparedFor, prepareSql } from './prepared';

/** The release a download token names, as the redirect needs it. */
export interface ReleaseRow {
  version: string;
  s3Key: string;
  releasedAt: number; // epoch ms
  slug: string;
  free: boolean;
}

/** A code as the counting statement saw it, before its own write. */
export interface SeenCode {
  id: string;
  code: string;
  productId: string;
  revision: number;
  expiresOn: string | null;
  maxDownloads: number | null;
  downloadsUsed: number;
  maxSites: number | null;
  revoked: boolean;
  sites: { host: string; counts: boolean }[];
}

export interface CountResult {
  release: ReleaseRow | null;
  /** Set when the download was counted and recorded: the code's revision after it, and whether that changed. */
  counted: { code: string; revision: number; bumped: boolean } | null;
}

const p = sql.placeholder;

// Only a version that passed verification, and is not pulled, is ever downloadable.
const RELEASE = sql`
  select v.version, v.s3_key, v.released_at, (extract(epoch from v.released_at) * 1000)::float8 as released_ms, p.slug, p.free
  from versions v join products p on p.id = v.product_id
  where v.id = ${p('versionId')}::uuid and v.product_id = ${p('productId')}::uuid and v.status = 'ready' and v.pulled_at is null`;

// Entitled to versions released up to the end of the expiry day (UTC): mirrors endOfDayUtc.
const ENTITLED = (released: SQL) => sql`(c.expires_on is null or ${released} < (c.expires_on + 1)::timestamp at time zone 'UTC')`;

/**
 * Counts one download of a code in one statement, without a lock held across round trips:
 * the update's conditions (not revoked, entitled to the version, under the download limit, the
 * site already bound or not limited) make exactly max_downloads of any number of concurrent
 * downloads succeed. The download row and a binding that takes no slot go in the same
 * statement. A host that would take a slot is left to claimSlotAndCount. The revision moves
 * only with the download that exhausts the code: no other count changes a verdict.
 */
export async function countDownload(db: Db, a: { codeId: string; productId: string; versionId: string; host: string | null; devHost: boolean }): Promise<CountResult> {
  const r = rowsOf<Raw>(await statements(db).count.execute(a))[0]!;
  return { release: r.version === null ? null : toRelease(r), counted: r.new_revision === null ? null : { code: r.code!, revision: Number(r.new_revision), bumped: !!r.bumped } };
}

const statements = preparedFor((db) => ({
  count: prepareSql(
    db,
    'wharf_count_download',
    sql`with v as (${RELEASE}),
    upd as (
      update purchase_codes c
         set downloads_used = c.downloads_used + 1,
             revision = c.revision + coalesce(c.downloads_used + 1 >= c.max_downloads, false)::int
       where c.id = ${p('codeId')}::uuid and c.product_id = ${p('productId')}::uuid and c.revoked_at is null
         and exists (select 1 from v)
         and ${ENTITLED(sql`(select v.released_at from v)`)}
         and (c.max_downloads is null or c.downloads_used < c.max_downloads)
         and (c.max_sites is null or ${p('devHost')}::boolean
              or exists (select 1 from code_sites s where s.code_id = c.id and s.host = ${p('host')}::text and s.active))
       returning c.id, c.code, c.note, c.product_id, c.revision, c.max_sites, c.max_downloads, coalesce(c.downloads_used >= c.max_downloads, false) as bumped
    ),
    site as (
      insert into code_sites (code_id, host, counts_toward_limit)
      select upd.id, ${p('host')}::text, not ${p('devHost')}::boolean from upd where ${p('host')}::text is not null and (upd.max_sites is null or ${p('devHost')}::boolean)
      on conflict (code_id, host) do update set active = true, deactivated_at = null where code_sites.active = false
      returning 1
    ),
    ev_limit as (
      insert into events (user_id, product_id, type, data)
      select p.user_id, p.id, 'code.download_limit_reached', jsonb_build_object('product', ${PRODUCT_REF_SQL}, 'code', ${CODE_REF_SQL}, 'maxDownloads', c.max_downloads)
      from upd c join products p on p.id = c.product_id where c.bumped
      returning 1
    ),
    ev_site as (
      insert into events (user_id, product_id, type, data)
      select p.user_id, p.id, 'site.activated', jsonb_build_object('product', ${PRODUCT_REF_SQL}, 'code', ${CODE_REF_SQL}, 'site', ${p('host')}::text)
      from site, upd c join products p on p.id = c.product_id
      returning 1
    ),
    dl as (
      insert into downloads (product_id, code_id, version, host) select ${p('productId')}::uuid, upd.id, v.version, ${p('host')}::text from upd, v returning 1
    )
    select v.*, upd.code, upd.revision as new_revision, upd.bumped
    from (select 1) one left join v on true left join upd on true`,
  ),
  free: prepareSql(
    db,
    'wharf_count_free_download',
    sql`with v as (${RELEASE}),
    dl as (insert into downloads (product_id, code_id, version, host) select ${p('productId')}::uuid, null, v.version, ${p('host')}::text from v where v.free returning 1)
    select v.* from v`,
  ),
}));

/** A code and its active sites, for the wording of a refused download. */
export async function seenCode(db: Db, codeId: string): Promise<SeenCode | null> {
  const result = await db.execute(sql`select c.id, c.code, c.product_id, c.revision, c.expires_on::text as expires_on, c.max_downloads, c.downloads_used, c.max_sites,
      c.revoked_at is not null as revoked,
      array(select s.host from code_sites s where s.code_id = c.id and s.active order by s.host) as bound,
      array(select s.host from code_sites s where s.code_id = c.id and s.active and s.counts_toward_limit order by s.host) as counted
    from purchase_codes c where c.id = ${codeId}::uuid`);
  const r = rowsOf<Raw>(result)[0];
  if (!r) return null;
  const counted = new Set(r.counted ?? []);
  return {
    id: r.id!,
    code: r.code!,
    productId: r.product_id!,
    revision: Number(r.revision),
    expiresOn: r.expires_on,
    maxDownloads: r.max_downloads,
    downloadsUsed: r.downloads_used!,
    maxSites: r.max_sites,
    revoked: !!r.revoked,
    sites: (r.bound ?? []).map((host) => ({ host, counts: counted.has(host) })),
  };
}

/**
 * The one download that binds a host to a code with a site limit: under the code's row lock (a
 * transaction of three short statements, once per site), so concurrent first downloads from
 * different sites never take more than max_sites slots. null: the code changed meanwhile (look
 * again); 'site_limit': no slot was free.
 */
export async function claimSlotAndCount(db: Db, a: { codeId: string; productId: string; versionId: string; host: string; releasedAt: number; version: string }): Promise<{ revision: number } | 'site_limit' | null> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const locked = rowsOf<{ id: string; max_sites: number | null; max_downloads: number | null; downloads_used: number }>(
      await t.execute(sql`update purchase_codes c set downloads_used = c.downloads_used + 1
        where c.id = ${a.codeId}::uuid and c.product_id = ${a.productId}::uuid and c.revoked_at is null
          and ${ENTITLED(sql`to_timestamp(${a.releasedAt / 1000}::float8)`)}
          and (c.max_downloads is null or c.downloads_used < c.max_downloads)
        returning c.id, c.max_sites, c.max_downloads, c.downloads_used`),
    )[0];
    if (!locked) return null;
    const site = await bindSite(t, a.codeId, a.host, true, locked.max_sites);
    if (site.revision === null && !site.wasActive) throw new SiteLimitReached(); // rolls the count back
    // Events in the same transaction: the new site, the last slot taken, the last download used.
    if (site.revision !== null && !site.wasActive) {
      await insertCodeEvent(t, 'site.activated', a.codeId, { site: a.host });
      const counted = rowsOf<{ n: number | string }>(await t.execute(sql`select count(*) as n from code_sites where code_id = ${a.codeId}::uuid and active and counts_toward_limit`))[0]!;
      if (locked.max_sites !== null && Number(counted.n) >= locked.max_sites) await insertCodeEvent(t, 'site_limit.reached', a.codeId, { site: a.host, maxSites: locked.max_sites });
    }
    if (locked.max_downloads !== null && locked.downloads_used >= locked.max_downloads) await insertCodeEvent(t, 'code.download_limit_reached', a.codeId, { maxDownloads: locked.max_downloads });
    await t.execute(sql`insert into downloads (product_id, code_id, version, host) values (${a.productId}::uuid, ${a.codeId}::uuid, ${a.version}, ${a.host})`);
    const bumped = rowsOf<{ revision: number }>(await t.execute(sql`update purchase_codes set revision = revision + 1 where id = ${a.codeId}::uuid returning revision`))[0]!;
    return { revision: Number(bumped.revision) };
  }).catch((err: unknown) => {
    if (err instanceof SiteLimitReached) return 'site_limit' as const;
    throw err;
  });
}

class SiteLimitReached extends Error {}

/** A free product's download: recorded in the statement that finds the release. */
export async function recordFreeDownload(db: Db, a: { productId: string; versionId: string; host: string | null }): Promise<ReleaseRow | null> {
  const row = rowsOf<Raw>(await statements(db).free.execute(a))[0];
  return row ? toRelease(row) : null;
}

interface Raw {
  version: string | null;
  s3_key: string | null;
  released_ms: number | string | null;
  slug: string | null;
  free: boolean | null;
  id: string | null;
  code: string | null;
  product_id: string | null;
  revision: number | string | null;
  expires_on: string | null;
  max_downloads: number | null;
  downloads_used: number | null;
  max_sites: number | null;
  revoked: boolean | null;
  bound: string[] | null;
  counted: string[] | null;
  new_revision: number | string | null;
  bumped: boolean | null;
}

function toRelease(r: Raw): ReleaseRow {
  return { version: r.version!, s3Key: r.s3_key!, releasedAt: Number(r.released_ms), slug: r.slug!, free: r.free! };
}
