import { randomUUID } from 'node:crypto';
import type { Cache } from '../../adapters/cache/cache';
import { HotCache } from '../../adapters/cache/hot.cache';
import { GONE, ReadThroughCache } from '../../adapters/cache/read-through.cache';
import type { Database, Db } from '../../db/client';
import { catalogProduct, catalogProductRevision, catalogVersion, catalogVersionRefs, type CatalogVersionRow } from '../../db/queries/catalog.queries';
import { activeInstallCount } from '../../db/queries/analytics.queries';
import { productSectionsOf, readyVersionContent } from '../../db/queries/content.queries';
import * as lq from '../../db/queries/licensing.queries';
import type { StoredReadme, StoredSection } from '../../db/schema';
import { sha256Hex } from '../../lib/crypto';
import { isUuid } from '../../lib/validation';
import type { Logger } from '../../logger';
import type { VersionRef } from '../licensing/license.verdicts';
import { codeState, type CodeState } from '../licensing/purchase-code.state';
import { windowStart } from '../analytics/analytics.service';
import { orderReleases, type ReleaseRef } from './rollout.decision';

export interface VersionMeta extends VersionRef {
  name: string;
  requires: string | null;
  tested: string | null;
  requiresPhp: string | null;
  author: string | null;
  authorUri: string | null;
  uri: string | null;
  readme: StoredReadme | null;
  upgradeNotice: string | null;
}

/** Everything the update check needs about one product, as one cacheable value. */
export interface ProductSnapshot {
  id: string;
  type: 'plugin' | 'theme';
  slug: string;
  name: string;
  free: boolean;
  revision: number;
  homepage: string | null;
  author: string | null;
  authorHomepage: string | null;
  description: string;
  installation: string;
  changelog: string;
  banners: { low: string | null; high: string | null };
  icons: { '1x': string | null; '2x': string | null };
  live: VersionMeta | null;
  versions: VersionRef[];
  /** Sites that checked in during the last 7 days, as of when the snapshot was loaded (absent in entries cached before it existed). */
  activeInstalls?: number;
  /** Sanitized HTML from the content tables: loaded with the snapshot, so no update check queries for it. */
  content?: SnapshotContent;
  /** Ready releases no newer than live, newest first, with their rollout state (rollout.decision.ts); absent in snapshots cached before rollouts. */
  releases?: ReleaseRef[];
}

export interface SnapshotContent {
  /** The vendor's own sections (dashboard or API); null when never edited. */
  sections: StoredSection[] | null;
  /** The live version's readme sections, converted at upload; null for versions from before that. */
  liveSections: StoredSection[] | null;
  /** Every ready version's changelog and upgrade notice. */
  notes: { versionId: string; version: string; changelog: string; upgradeNotice: string }[];
}

/** Where writes are announced to the other app servers. */
const CHANNEL = 'wharf_catalog';

export type CatalogBus = Pick<Database, 'listen' | 'notify'>;

export interface CatalogOptions {
  /** In-process freshness (CACHE_L1_TTL_MS); 0: every read asks memcached or the database. */
  ttlMs: number;
  /** Entries kept in process, per kind (products, codes). */
  maxEntries: number;
  /** memcached freshness (CACHE_SHARED_FRESH_SECONDS); kept stale a day beyond. */
  sharedFreshSeconds: number;
}

/**
 * What the update check reads: product snapshots and purchase codes, through the read-through
 * cache (in process, memcached, PostgreSQL; stale-while-revalidate). Every write that changes an
 * answer reaches it through invalidateProduct/invalidateCode, the one invalidation path.
 */
export class Catalog {
  private readonly products: ReadThroughCache<ProductSnapshot>;
  private readonly codes: ReadThroughCache<CodeState>;
  private bus: CatalogBus | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    shared: Cache | null,
    opts: CatalogOptions,
    private readonly logger: Logger,
  ) {
    const publish = (message: string) => void this.bus?.notify(CHANNEL, message).catch((err: unknown) => this.logger.warn({ err }, 'catalog: could not announce a change'));
    this.products = new ReadThroughCache<ProductSnapshot>({
      publish,
      name: 'products',
      l1: new HotCache(opts.ttlMs, opts.maxEntries),
      shared,
      sharedFreshSeconds: opts.sharedFreshSeconds,
      sharedKey: (id) => `p:${id}`,
      load: (id) => this.loadProduct(id),
      revisionOf: (p) => p.revision,
      logger,
    });
    this.codes = new ReadThroughCache<CodeState>({
      publish,
      name: 'codes',
      l1: new HotCache(opts.ttlMs, opts.maxEntries),
      shared,
      sharedFreshSeconds: opts.sharedFreshSeconds,
      // In process the code itself is the key (no hashing on a hit); memcached, a shared server, gets its hash.
      sharedKey: (code) => `c:${sha256Hex(code)}`,
      load: (code) => this.loadCode(code),
      revisionOf: (c) => c.revision,
      logger,
    });
  }

  /**
   * Hear the other app servers' writes (PostgreSQL LISTEN/NOTIFY): an in-process entry is then
   * trusted until a write to it is heard, and everything is re-read after a reconnection. With
   * `heartbeatMs`, the listening connection is proven alive by hearing our own pings: when they
   * stop (a failover can leave it hanging), entries fall back to the in-process TTL.
   */
  attach(bus: CatalogBus, heartbeatMs?: number): void {
    this.bus = bus;
    const ping = `ping:${randomUUID()}`;
    let lastPing = Date.now();
    let hearing = false;
    const setHearing = (on: boolean) => {
      if (on === hearing) return;
      hearing = on;
      this.products.setHearing(on);
      this.codes.setHearing(on);
    };
    bus.listen(
      CHANNEL,
      (message) => {
        if (message === ping) {
          lastPing = Date.now();
          setHearing(true);
        } else if (!message.startsWith('ping:')) (message.startsWith('p:') ? this.products : this.codes).heard(message);
      },
      () => {
        lastPing = Date.now();
        hearing = false; // writes made while disconnected went unheard: catch up
        setHearing(true);
      },
    );
    if (!heartbeatMs) return;
    this.heartbeat = setInterval(() => {
      if (Date.now() - lastPing > 2.5 * heartbeatMs) setHearing(false);
      void bus.notify(CHANNEL, ping).catch(() => undefined);
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** An in-process hit without a promise (the update check's hot path); undefined on a miss. */
  cachedProduct(id: string): ProductSnapshot | null | undefined {
    return this.products.cached(id);
  }

  cachedCode(canonical: string): CodeState | null | undefined {
    return this.codes.cached(canonical);
  }

  async product(id: string): Promise<ProductSnapshot | null> {
    return isUuid(id) ? this.products.get(id) : null;
  }

  code(canonical: string): Promise<CodeState | null> {
    return this.codes.get(canonical);
  }

  /** Any kept version's metadata (versions never change, so these never go stale). */
  async version(productId: string, versionId: string): Promise<VersionMeta | null> {
    const row = await catalogVersion(this.db, productId, versionId);
    return row ? toMeta(row) : null;
  }

  /** After any write to a product or its versions; the revision is read back for the other servers. */
  invalidateProduct(id: string): void {
    this.products.invalidate(id, catalogProductRevision(this.db, id).then((r) => r ?? GONE));
  }

  /** After any write that changed a code's verdicts, with the revision it committed. */
  invalidateCode(canonical: string, revision: number): void {
    this.codes.invalidate(canonical, revision);
  }

  private async loadProduct(id: string): Promise<ProductSnapshot | null> {
    const p = await catalogProduct(this.db, id);
    if (!p) return null;
    const [refs, live, notes, sections, activeInstalls] = await Promise.all([
      catalogVersionRefs(this.db, id),
      p.liveVersionId ? this.version(id, p.liveVersionId) : null,
      readyVersionContent(this.db, id),
      productSectionsOf(this.db, id),
      // Read with the snapshot (so at most every CACHE_SHARED_FRESH_SECONDS), never per update check.
      activeInstallCount(this.db, id, windowStart(7, Date.now())),
    ]);
    return {
      id: p.id,
      type: p.type,
      slug: p.slug,
      name: p.name,
      free: p.free,
      revision: p.revision,
      homepage: p.homepage,
      author: p.author,
      authorHomepage: p.authorHomepage,
      description: p.description,
      installation: p.installation,
      changelog: p.changelog,
      banners: { low: p.bannerLow, high: p.bannerHigh },
      icons: { '1x': p.icon1x, '2x': p.icon2x },
      live,
      versions: refs.map((r) => ({ id: r.id, version: r.version, releasedAt: r.releasedAt.getTime() })),
      activeInstalls,
      content: {
        sections,
        liveSections: notes.find((n) => n.versionId === p.liveVersionId)?.sections ?? null,
        notes: notes.map((n) => ({ versionId: n.versionId, version: n.version, changelog: n.changelog, upgradeNotice: n.upgradeNotice })),
      },
      releases: orderReleases(
        refs.map((r) => ({
          id: r.id,
          version: r.version,
          releasedAt: r.releasedAt.getTime(),
          requires: r.requires,
          requiresPhp: r.requiresPhp,
          channel: r.channel,
          rolloutPercent: r.rolloutPercent,
          paused: r.paused,
          pulled: r.pulledAt !== null,
        })),
        live?.version ?? null,
      ),
    };
  }

  private async loadCode(canonical: string): Promise<CodeState | null> {
    const row = await lq.findCode(this.db, canonical);
    if (!row) return null;
    const sites = row.maxSites !== null ? await lq.activeSites(this.db, row.id) : [];
    return codeState(row, sites);
  }
}

function toMeta(v: CatalogVersionRow): VersionMeta {
  return {
    id: v.id,
    version: v.version,
    releasedAt: v.releasedAt.getTime(),
    name: v.name,
    requires: v.requires,
    tested: v.tested,
    requiresPhp: v.requiresPhp,
    author: v.author,
    authorUri: v.authorUri,
    uri: v.uri,
    readme: v.readme,
    upgradeNotice: v.upgradeNotice,
  };
}
