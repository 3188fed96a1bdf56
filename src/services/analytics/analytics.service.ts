import type { Db } from '../../db/client';
import * as q from '../../db/queries/analytics.queries';
import { ValidationError } from '../../lib/errors';
import type { Logger } from '../../logger';
import type { ProductsService } from '../products.service';
import { siteHost } from '../licensing/site-host.rules';

const DAY_MS = 86_400_000;
// Any fixed 64-bit number: the partition and retention job runs on one app server at a time.
const MAINTENANCE_LOCK_KEY = 7_305_331_913;
/** Membership (analytics_site_days) is kept this many days back: a check-in flushed later is counted in checks only. */
export const MEMBERSHIP_DAYS = 3;

export const dayOf = (t: number | Date) => new Date(t).toISOString().slice(0, 10);
/** The first instant of the window: the start (UTC) of the oldest of the last `days` days, today included. */
export const windowStart = (days: number, now: number) => new Date(Date.parse(`${dayOf(now - (days - 1) * DAY_MS)}T00:00:00Z`));

export interface Count {
  value: string | null;
  sites: number;
}

export interface AnalyticsReport {
  days: number;
  from: string;
  to: string;
  active: { d7: number; d30: number };
  daily: { date: string; activeSites: number; checks: number; downloads: number }[];
  versions: Count[];
  wordpress: Count[];
  php: Count[];
  locales: Count[];
  licenses: { valid: number; none: number; errors: Record<string, number> };
  /** Per day, distinct sites per installed version / licence verdict (a site that changed during a day counts under each). */
  versionsDaily: { date: string; values: Record<string, number> }[];
  licensesDaily: { date: string; values: Record<string, number> }[];
  live: { version: string; share: number | null; releasedOn: string; halfAfterDays: number | null } | null;
}

export function parseDays(raw: unknown, fallback = 30): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 365) throw new ValidationError('days must be a whole number from 1 to 365.', { days: 'Use 1 to 365.' });
  return n;
}

const byCount = (a: Count, b: Count) => b.sites - a.sites || String(a.value ?? '').localeCompare(String(b.value ?? ''));

/**
 * Analytics over what the check-in flush maintains: product_sites (each site's latest check, exact) and the
 * daily rollups. No read here touches the raw check-ins, so a page costs the same at any volume.
 */
export class AnalyticsService {
  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly retentionDays: number,
    private readonly logger: Logger,
  ) {}

  async report(userId: string, productId: string, days: number, now = Date.now()): Promise<AnalyticsReport> {
    const product = await this.products.get(userId, productId);
    const since = windowStart(days, now);
    const from = dayOf(since);
    const to = dayOf(now);
    const [active, breakdown, rollups, downloads, live] = await Promise.all([
      q.activeSiteCounts(this.db, product.id, [windowStart(7, now), windowStart(30, now)]),
      q.siteBreakdown(this.db, product.id, since),
      q.dailyRollups(this.db, product.id, ['all', 'version', 'license'], from, to),
      q.dailyDownloads(this.db, product.id, from, to),
      q.liveVersion(this.db, product.id),
    ]);
    const dl = new Map(downloads.map((d) => [d.day, Number(d.downloads)]));
    const all = new Map<string, q.DailyRow>();
    const perDay = { version: new Map<string, Record<string, number>>(), license: new Map<string, Record<string, number>>() };
    for (const r of rollups) {
      if (r.dimension === 'all') all.set(r.day, r);
      else ((perDay[r.dimension as 'version' | 'license'].get(r.day) ?? perDay[r.dimension as 'version' | 'license'].set(r.day, {}).get(r.day))!)[r.value || 'unknown'] = Number(r.sites);
    }
    const dates: string[] = [];
    for (let t = since.getTime(); dayOf(t) <= to; t += DAY_MS) dates.push(dayOf(t));
    const pick = (dim: q.Breakdown['dimension']) => breakdown.filter((b) => b.dimension === dim).map((b) => ({ value: b.value === '' ? null : b.value, sites: Number(b.sites) })).sort(byCount);
    const licenses = { valid: 0, none: 0, errors: {} as Record<string, number> };
    for (const l of pick('license')) {
      if (l.value === 'valid') licenses.valid = l.sites;
      else if (l.value === 'none' || l.value === null) licenses.none += l.sites;
      else licenses.errors[l.value] = l.sites;
    }
    const versions = pick('version');
    const versionsDaily = dates.map((date) => ({ date, values: perDay.version.get(date) ?? {} }));
    let liveInfo: AnalyticsReport['live'] = null;
    if (live) {
      const total = versions.reduce((n, v) => n + v.sites, 0);
      const on = versions.find((v) => v.value === live.version)?.sites ?? 0;
      const releasedOn = dayOf(live.releasedAt);
      // The first day on which at least half that day's active sites ran the live version.
      const half = dates.find((d) => d >= releasedOn && (all.get(d)?.sites ?? 0) > 0 && (perDay.version.get(d)?.[live.version] ?? 0) * 2 >= Number(all.get(d)!.sites));
      liveInfo = { version: live.version, share: total ? on / total : null, releasedOn, halfAfterDays: half ? Math.round((Date.parse(half) - Date.parse(releasedOn)) / DAY_MS) : null };
    }
    return {
      days,
      from,
      to,
      active: { d7: active[0] ?? 0, d30: active[1] ?? 0 },
      daily: dates.map((date) => ({ date, activeSites: Number(all.get(date)?.sites ?? 0), checks: Number(all.get(date)?.checks ?? 0), downloads: dl.get(date) ?? 0 })),
      versions,
      wordpress: pick('wordpress'),
      php: pick('php'),
      locales: pick('locale'),
      licenses,
      versionsDaily,
      licensesDaily: dates.map((date) => ({ date, values: perDay.license.get(date) ?? {} })),
      live: liveInfo,
    };
  }

  async sites(userId: string, productId: string, opts: { days: number; search?: string; page?: number; perPage?: number }, now = Date.now()) {
    const product = await this.products.get(userId, productId);
    const perPage = Math.min(Math.max(opts.perPage ?? 50, 1), 1_000_000);
    const page = Math.max(opts.page ?? 1, 1);
    const search = (opts.search ?? '').trim().slice(0, 253);
    const { rows, total } = await q.listSites(this.db, product.id, windowStart(opts.days, now), search, perPage, (page - 1) * perPage);
    return { rows, total, page, perPage, pages: Math.max(1, Math.ceil(total / perPage)), search };
  }

  /** Every site of the window (and search) as CSV, most recently seen first. */
  async sitesCsv(userId: string, productId: string, opts: { days: number; search?: string }, now = Date.now()): Promise<{ filename: string; body: string }> {
    const product = await this.products.get(userId, productId);
    const list = await this.sites(userId, productId, { ...opts, page: 1, perPage: 1_000_000 }, now);
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? '' : String(v);
      // Quote always; neutralise spreadsheet formulas (site-supplied text).
      return `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
    };
    const lines = [['host', 'installed_version', 'wordpress', 'php', 'locale', 'license', 'last_seen'].join(',')];
    for (const r of list.rows) lines.push([r.host, r.installedVersion, r.wpVersion, r.phpVersion, r.locale, r.license, r.lastSeenAt.toISOString()].map(cell).join(','));
    return { filename: `${product.slug}-sites-${opts.days}d.csv`, body: `${lines.join('\r\n')}\r\n` };
  }

  /** Erases what is kept about one site (erasure requests): raw check-ins, its last-seen row, its host in the download log. */
  async eraseSite(userId: string, productId: string, rawHost: string): Promise<{ host: string; erased: number }> {
    const product = await this.products.get(userId, productId);
    const host = siteHost(rawHost, undefined);
    if (!host) throw new ValidationError('Give the site host (example.com).', { host: 'Not a host name.' });
    const erased = await q.eraseSite(this.db, product.id, host);
    this.logger.info({ productId: product.id, erased }, 'analytics: site erased');
    return { host, erased };
  }

  /** Active sites (7 days) and downloads (30 days) per product, plus daily active sites for sparklines. */
  async overview(productIds: string[], now = Date.now()) {
    const from = dayOf(windowStart(30, now));
    const [counts, daily] = await Promise.all([q.overviewCounts(this.db, productIds, windowStart(7, now), windowStart(30, now)), q.overviewDaily(this.db, productIds, from, dayOf(now))]);
    const dates: string[] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); dayOf(t) <= dayOf(now); t += DAY_MS) dates.push(dayOf(t));
    return new Map(
      productIds.map((id) => {
        const mine = new Map(daily.filter((d) => d.id === id).map((d) => [d.day, Number(d.sites)]));
        return [id, { ...(counts.get(id) ?? { active7: 0, downloads30: 0 }), daily: dates.map((d) => mine.get(d) ?? 0) }];
      }),
    );
  }

  /** The count the plugin JSON carries (read when a product snapshot is loaded, never per update check). */
  activeInstalls(productId: string, now = Date.now()): Promise<number> {
    return q.activeInstallCount(this.db, productId, windowStart(7, now));
  }

  maintain(now = Date.now()) {
    return maintainCheckins(this.db, this.retentionDays, this.logger, now);
  }

  rebuild(): Promise<{ days: number; sites: number }> {
    return q.rebuildAnalytics(this.db, MEMBERSHIP_DAYS);
  }
}

/**
 * Creates this month's and the next two months' partitions (and any month the default partition caught),
 * drops partitions wholly older than the retention, prunes old membership. One app server at a time.
 */
export async function maintainCheckins(root: Db, retentionDays: number, logger: Logger, now = Date.now()): Promise<{ created: string[]; dropped: string[] } | undefined> {
  return q.withTryLock(root, MAINTENANCE_LOCK_KEY, async (db) => {
    const cutoff = new Date(now - retentionDays * DAY_MS);
    const existing = await q.checkinPartitions(db);
    const have = new Set(existing.map((p) => p.from.getTime()));
    const want = new Set<number>();
    const current = q.monthStart(new Date(now));
    for (let i = 0; i < 3; i++) want.add(Date.UTC(current.getUTCFullYear(), current.getUTCMonth() + i, 1));
    for (const m of await q.defaultPartitionMonths(db)) want.add(m.getTime());
    const created: string[] = [];
    for (const m of [...want].sort((a, b) => a - b)) {
      const end = Date.UTC(new Date(m).getUTCFullYear(), new Date(m).getUTCMonth() + 1, 1);
      if (have.has(m) || end <= cutoff.getTime()) continue;
      created.push(await q.createMonthPartition(db, new Date(m)));
    }
    const dropped: string[] = [];
    for (const p of existing) {
      if (p.to.getTime() <= cutoff.getTime()) {
        await q.dropPartition(db, p.name);
        dropped.push(p.name);
      }
    }
    await q.deleteDefaultBefore(db, cutoff);
    await q.pruneSiteDays(db, dayOf(now - MEMBERSHIP_DAYS * DAY_MS));
    if (created.length || dropped.length) logger.info({ created, dropped }, 'analytics: check-in partitions');
    return { created, dropped };
  });
}

