import { and, eq, sql } from 'drizzle-orm';
import type { Cache } from '../../adapters/cache/cache';
import type { Db } from '../../db/client';
import * as lq from '../../db/queries/licensing.queries';
import { products, versions, type StoredReadme } from '../../db/schema';
import { sha256Hex } from '../../lib/crypto';
import { isUuid } from '../../lib/validation';
import type { Logger } from '../../logger';
import type { CodeState, VersionRef } from '../licensing/entitlement';

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
}

const SHARED_TTL_SECONDS = 60;
const NONE = 'none';

type SharedRead<T> = { hit: true; value: T | null } | { hit: false };

/**
 * Reads for the update check: in-process first, then memcached (optional), then PostgreSQL.
 * Writers call invalidate*; other app servers converge within the in-process TTL.
 */
export class Catalog {
  private readonly productsL1: HotCacheLike<ProductSnapshot | null>;
  private readonly codesL1: HotCacheLike<CodeState | null>;
  /** memcached reads in flight, by key: when an L1 entry expires under load, one get serves every waiting check. */
  private readonly sharedReads = new Map<string, Promise<SharedRead<unknown>>>();
  private readonly q: ReturnType<typeof prepareQueries>;

  constructor(
    private readonly db: Db,
    private readonly shared: Cache | null,
    l1: { products: HotCacheLike<ProductSnapshot | null>; codes: HotCacheLike<CodeState | null> },
    private readonly logger: Logger,
  ) {
    this.productsL1 = l1.products;
    this.codesL1 = l1.codes;
    this.q = prepareQueries(db);
  }

  /** An in-process hit without a promise (the update check's hot path); undefined on a miss. */
  cachedProduct(id: string): ProductSnapshot | null | undefined {
    return this.productsL1.fresh(id);
  }

  cachedCode(canonical: string): CodeState | null | undefined {
    return this.codesL1.fresh(canonical);
  }

  async product(id: string): Promise<ProductSnapshot | null> {
    if (!isUuid(id)) return null;
    const hit = this.cachedProduct(id);
    if (hit !== undefined) return hit;
    return this.read(id, `p:${id}`, this.productsL1, () => this.loadProduct(id));
  }

  async code(canonical: string): Promise<CodeState | null> {
    // In process the code itself is the key (no hashing on a hit); memcached, a shared server, gets its hash.
    const hit = this.cachedCode(canonical);
    if (hit !== undefined) return hit;
    return this.read(canonical, `c:${sha256Hex(canonical)}`, this.codesL1, () => this.loadCode(canonical));
  }

  /** A ready version's metadata (versions never change once ready, so these never go stale). */
  async version(productId: string, versionId: string): Promise<VersionMeta | null> {
    const rows = await this.q.version.execute({ productId, versionId });
    return rows[0] ? toMeta(rows[0]) : null;
  }

  invalidateProduct(id: string): void {
    this.invalidate(id, this.productsL1, `p:${id}`);
  }

  invalidateCode(canonical: string): void {
    this.invalidate(canonical, this.codesL1, `c:${sha256Hex(canonical)}`);
  }

  private invalidate(l1Key: string, l1: HotCacheLike<unknown>, key: string): void {
    l1.delete(l1Key);
    this.sharedReads.delete(key); // reads that start after this must not join one that started before
    if (!this.shared) return;
    void this.shared.delete(key);
    // A reader that loaded the old row just before our commit may write it back; delete again.
    setTimeout(() => void this.shared?.delete(key), 1500).unref();
  }

  /** After an in-process miss: memcached, then PostgreSQL (or the last known value while it is down). */
  private async read<T>(l1Key: string, key: string, l1: HotCacheLike<T | null>, load: () => Promise<T | null>): Promise<T | null> {
    if (this.shared) {
      const cached = (await this.sharedRead(key)) as SharedRead<T>;
      if (cached.hit) {
        l1.set(l1Key, cached.value);
        return cached.value;
      }
    }
    let value: T | null;
    try {
      value = await load();
    } catch (err) {
      const stale = l1.stale(l1Key);
      if (stale === undefined) throw err;
      this.logger.warn({ err: (err as Error).message }, 'catalog: database unavailable, serving last known data');
      return stale;
    }
    l1.set(l1Key, value);
    if (this.shared) void this.shared.set(key, value === null ? NONE : JSON.stringify(value), SHARED_TTL_SECONDS);
    return value;
  }

  private sharedRead(key: string): Promise<SharedRead<unknown>> {
    let read = this.sharedReads.get(key);
    if (!read) {
      const started: Promise<SharedRead<unknown>> = this.shared!.get(key).then(
        (cached): SharedRead<unknown> => {
          if (!cached) return { hit: false };
          const text = cached.toString('utf8');
          return { hit: true, value: text === NONE ? null : JSON.parse(text) };
        },
      );
      read = started.finally(() => {
        if (this.sharedReads.get(key) === read) this.sharedReads.delete(key);
      });
      this.sharedReads.set(key, read);
    }
    return read;
  }

  private async loadProduct(id: string): Promise<ProductSnapshot | null> {
    const rows = await this.q.product.execute({ id });
    const p = rows[0];
    if (!p) return null;
    const refs = await lq.versionRefs(this.db, id);
    const live = p.liveVersionId ? await this.version(id, p.liveVersionId) : null;
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
    };
  }

  private async loadCode(canonical: string): Promise<CodeState | null> {
    const row = await lq.findCode(this.db, canonical);
    if (!row) return null;
    const sites = row.maxSites !== null ? await lq.activeSites(this.db, row.id) : [];
    return codeState(row, sites);
  }
}

/** Built once: drizzle spends longer building a select (~150 µs here) than PostgreSQL spends running it. */
function prepareQueries(db: Db) {
  return {
    product: db.select().from(products).where(eq(products.id, sql.placeholder('id'))).limit(1).prepare('wharf_catalog_product'),
    version: db
      .select()
      .from(versions)
      .where(and(eq(versions.productId, sql.placeholder('productId')), eq(versions.id, sql.placeholder('versionId')), eq(versions.status, 'ready')))
      .limit(1)
      .prepare('wharf_catalog_version'),
  };
}

export interface HotCacheLike<T> {
  fresh(key: string): T | undefined;
  stale(key: string): T | undefined;
  set(key: string, value: T): void;
  delete(key: string): void;
}

export function codeState(row: lq.PurchaseCodeRow, sites: { host: string; counts: boolean }[]): CodeState {
  return {
    id: row.id,
    productId: row.productId,
    expiresOn: row.expiresOn,
    maxDownloads: row.maxDownloads,
    downloadsUsed: row.downloadsUsed,
    maxSites: row.maxSites,
    revoked: row.revokedAt !== null,
    boundHosts: sites.map((s) => s.host),
    countedHosts: sites.filter((s) => s.counts).map((s) => s.host),
  };
}

function toMeta(v: typeof versions.$inferSelect): VersionMeta {
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
