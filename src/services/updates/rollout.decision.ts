import { compareVersions } from '../../lib/version-compare';
import type { VersionRef } from '../licensing/license.verdicts';

/**
 * Which release a site may be offered, before licensing: the channel (stable or beta), a staged
 * rollout's share of sites, pulled releases, and what the site's PHP and WordPress can run. A
 * pure function of the cached product snapshot and the request: nothing here reads or writes.
 */

export type Channel = 'stable' | 'beta';

/** A ready release as the snapshot keeps it (the catalog lists them newest first, none newer than live). */
export interface ReleaseRef extends VersionRef {
  requires: string | null;
  requiresPhp: string | null;
  channel: Channel;
  /** 1–100: the share of sites (by rolloutBucket) offered it. */
  rolloutPercent: number;
  /** A halted rollout: no site that does not run it yet is offered it; the percentage is kept for resuming. */
  paused: boolean;
  pulled: boolean;
}

export interface OfferInput {
  productId: string;
  /** Newest first. */
  releases: readonly ReleaseRef[];
  host: string | null;
  beta: boolean;
  /** As the site reported them; anything that does not start like a version is not gated on. */
  php: string | null;
  wordpress: string | null;
}

export interface Offer {
  /** The newest release this site may be offered and can run; null when there is none. */
  offer: ReleaseRef | null;
  /** Every release the site may be offered and can run, newest first (an expired code's entitlement picks among them). */
  allowed: ReleaseRef[];
  /** The newest release the site may be offered but cannot run, when it is newer than `offer`. */
  heldBack: ReleaseRef | null;
  /** Why `heldBack` is held back, as the site's admin reads it. */
  compatNotice: string | null;
}

const BUCKETS = 10_000;

/**
 * Where a site falls in a product's rollouts: 0–9999, the same on every server and every check.
 * A release at p% reaches buckets below p·100, so raising p only adds sites; one hash per product
 * means a site in a 10% rollout of one release is also in a later release's 10%. FNV-1a with
 * murmur3's finalizer: well spread, and ~20x cheaper than a SHA-256 on the hot path (nothing to keep secret).
 */
export function rolloutBucket(productId: string, host: string): number {
  const text = `${productId}\n${host}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

/** Pre-release by PHP's version_compare forms (dev, alpha/a, beta/b, RC): `2.0.0-beta.1`, `2.0-rc1`, `3.0a2`. */
export function isPrerelease(version: string): boolean {
  return /(?:^|[^a-z])(?:dev|a|b|rc)/i.test(version.replace(/^[0-9.]+/, '.'));
}

const VERSIONISH = /^[0-9]+(?:\.[0-9]+)*/;

/** A reported version we can compare (PHP sends `8.2.12-1+deb12u1` and the like): its leading dotted digits, else null. */
export function reportedVersion(v: string | null | undefined): string | null {
  const m = v ? VERSIONISH.exec(v) : null;
  return m ? m[0] : null;
}

// Sites report few distinct PHP/WordPress pairs: each release's verdict per pair is worked out once.
const compatMemo = new WeakMap<ReleaseRef, Map<string, string[]>>();
const NO_PROBLEMS: string[] = [];

function compatProblems(r: ReleaseRef, php: string | null, wordpress: string | null): string[] {
  if (!r.requiresPhp && !r.requires) return NO_PROBLEMS;
  const key = `${php ?? ''}|${wordpress ?? ''}`;
  let memo = compatMemo.get(r);
  const hit = memo?.get(key);
  if (hit) return hit;
  const problems = findCompatProblems(r, php, wordpress);
  if (!memo) compatMemo.set(r, (memo = new Map()));
  if (memo.size >= 1000) memo.clear();
  memo.set(key, problems.length ? problems : NO_PROBLEMS);
  return problems;
}

function findCompatProblems(r: ReleaseRef, php: string | null, wordpress: string | null): string[] {
  const problems: string[] = [];
  if (php && r.requiresPhp && reportedVersion(r.requiresPhp) && compareVersions(php, reportedVersion(r.requiresPhp)!) < 0) problems.push(`PHP ${r.requiresPhp} or later (this site runs PHP ${php})`);
  if (wordpress && r.requires && reportedVersion(r.requires) && compareVersions(wordpress, reportedVersion(r.requires)!) < 0) problems.push(`WordPress ${r.requires} or later (this site runs WordPress ${wordpress})`);
  return problems;
}

export function compatNotice(r: ReleaseRef, problems: string[]): string {
  return `Version ${r.version} needs ${problems.join(' and ')}; update ${problems.length > 1 ? 'them' : problems[0]!.split(' ')[0]} to get it.`;
}

/** What `input`'s site may be offered: see Offer. */
export function decideOffer(input: OfferInput): Offer {
  const php = reportedVersion(input.php);
  const wordpress = reportedVersion(input.wordpress);
  let bucket = -1; // computed only when a partial rollout is met
  const allowed: ReleaseRef[] = [];
  let heldBack: ReleaseRef | null = null;
  let notice: string | null = null;
  for (const r of input.releases) {
    if (r.pulled) continue;
    if (r.channel === 'beta' && !input.beta) continue;
    if (r.paused || r.rolloutPercent < 100) {
      if (r.paused || input.host === null) continue;
      if (bucket < 0) bucket = rolloutBucket(input.productId, input.host);
      if (bucket >= r.rolloutPercent * (BUCKETS / 100)) continue;
    }
    if (php || wordpress) {
      const problems = compatProblems(r, php, wordpress);
      if (problems.length) {
        if (!heldBack && !allowed.length) {
          heldBack = r;
          notice = compatNotice(r, problems);
        }
        continue;
      }
    }
    allowed.push(r);
  }
  return { offer: allowed[0] ?? null, allowed, heldBack, compatNotice: notice };
}

/** Defaults for a snapshot cached before rollouts existed (memcached keeps values a day). */
export function asRelease(v: VersionRef & Partial<ReleaseRef>): ReleaseRef {
  return {
    id: v.id,
    version: v.version,
    releasedAt: v.releasedAt,
    requires: v.requires ?? null,
    requiresPhp: v.requiresPhp ?? null,
    channel: v.channel ?? 'stable',
    rolloutPercent: v.rolloutPercent ?? 100,
    paused: v.paused ?? false,
    pulled: v.pulled ?? false,
  };
}

/** Ready releases as the snapshot keeps them: none newer than the live one, newest first. */
export function orderReleases(all: ReleaseRef[], liveVersion: string | null): ReleaseRef[] {
  const kept = liveVersion === null ? [] : all.filter((r) => compareVersions(r.version, liveVersion) <= 0);
  return kept.sort((a, b) => compareVersions(b.version, a.version));
}
