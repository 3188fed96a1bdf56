import { updateVerdict } from '../../../src/services/licensing/license.verdicts';
import type { CodeState } from '../../../src/services/licensing/purchase-code.state';
import { decideOffer, isPrerelease, orderReleases, reportedVersion, rolloutBucket, type OfferInput, type ReleaseRef } from '../../../src/services/updates/rollout.decision';

const PRODUCT = '7b0a3c52-1f7e-4a51-9d0e-3f0f2b9d1a11';
const rel = (version: string, over: Partial<ReleaseRef> = {}): ReleaseRef => ({
  id: `v${version}`,
  version,
  releasedAt: Date.parse('2026-01-01T00:00:00Z'),
  requires: null,
  requiresPhp: null,
  channel: 'stable',
  rolloutPercent: 100,
  paused: false,
  pulled: false,
  ...over,
});
const hosts = Array.from({ length: 1000 }, (_, i) => `site-${i}.example.com`);
const offer = (releases: ReleaseRef[], over: Partial<OfferInput> = {}) => decideOffer({ productId: PRODUCT, releases, host: 'shop.example.com', beta: false, php: null, wordpress: null, ...over });
const offeredTo = (releases: ReleaseRef[], version: string) => new Set(hosts.filter((host) => offer(releases, { host }).offer?.version === version));

describe('staged rollout', () => {
  test('the bucket is a pure function of product and host, spread over 0–9999', () => {
    expect(rolloutBucket(PRODUCT, 'shop.example.com')).toBe(rolloutBucket(PRODUCT, 'shop.example.com'));
    const buckets = hosts.map((h) => rolloutBucket(PRODUCT, h));
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(10_000);
    // Another product sorts the same sites differently.
    expect(hosts.filter((h) => rolloutBucket(PRODUCT, h) < 2500).join()).not.toBe(hosts.filter((h) => rolloutBucket('another-product', h) < 2500).join());
  });

  test('25% reaches 20–30% of 1,000 sites, the same ones every time; the others get the previous fully-live release; 50% keeps them and adds others', () => {
    const at25 = [rel('2.0', { rolloutPercent: 25 }), rel('1.9')];
    const first = offeredTo(at25, '2.0');
    expect(first.size).toBeGreaterThanOrEqual(200);
    expect(first.size).toBeLessThanOrEqual(300);
    expect(offeredTo(at25, '2.0')).toEqual(first);
    expect(offeredTo(at25, '1.9').size).toBe(1000 - first.size);

    const at50 = offeredTo([rel('2.0', { rolloutPercent: 50 }), rel('1.9')], '2.0');
    expect(at50.size).toBeGreaterThanOrEqual(450);
    expect(at50.size).toBeLessThanOrEqual(550);
    for (const host of first) expect(at50.has(host)).toBe(true);
    expect(offeredTo([rel('2.0', { rolloutPercent: 100 }), rel('1.9')], '2.0').size).toBe(1000);
  });

  test('pausing offers it to no new site and keeps the percentage; resuming offers it to the same sites again', () => {
    const running = offeredTo([rel('2.0', { rolloutPercent: 25 }), rel('1.9')], '2.0');
    expect(offeredTo([rel('2.0', { rolloutPercent: 25, paused: true }), rel('1.9')], '2.0').size).toBe(0);
    expect(offeredTo([rel('2.0', { rolloutPercent: 100, paused: true }), rel('1.9')], '1.9').size).toBe(1000);
    expect(offeredTo([rel('2.0', { rolloutPercent: 25 }), rel('1.9')], '2.0')).toEqual(running);
  });

  test('a site that did not say who it is stays out of partial rollouts; a first release rolling out leaves others with nothing', () => {
    expect(offer([rel('2.0', { rolloutPercent: 99 }), rel('1.9')], { host: null }).offer?.version).toBe('1.9');
    const outside = hosts.find((host) => !offer([rel('1.0', { rolloutPercent: 10 })], { host }).offer)!;
    expect(offer([rel('1.0', { rolloutPercent: 10 })], { host: outside })).toEqual({ offer: null, allowed: [], heldBack: null, compatNotice: null });
  });

  test('a pulled release is never offered; the previous one is', () => {
    expect(offer([rel('2.0', { pulled: true }), rel('1.9')]).offer?.version).toBe('1.9');
    expect(offer([rel('2.0', { pulled: true })]).offer).toBeNull();
  });
});

describe('beta channel', () => {
  const releases = [rel('2.0.0-beta.1', { channel: 'beta' }), rel('1.9')];
  test('beta releases only for sites on the beta channel', () => {
    expect(offer(releases).offer?.version).toBe('1.9');
    expect(offer(releases, { beta: true }).offer?.version).toBe('2.0.0-beta.1');
    // A stable release newer than the beta reaches everyone.
    expect(offer([rel('2.0'), rel('2.0-rc1', { channel: 'beta' })], { beta: true }).offer?.version).toBe('2.0');
  });

  test('pre-release Version headers', () => {
    for (const v of ['2.0.0-beta.1', '2.0-rc1', '2.0RC2', '3.0a2', '3.0-alpha', '1.0-dev', '4.0.0-b3']) expect([v, isPrerelease(v)]).toEqual([v, true]);
    for (const v of ['2.0', '2.0.1', '10.4.3', '2.0-pl1', '2.0.0-p2']) expect([v, isPrerelease(v)]).toEqual([v, false]);
  });
});

describe('compatibility gating', () => {
  const releases = [rel('3.0', { requiresPhp: '8.1', requires: '6.5' }), rel('2.5', { requiresPhp: '8.0', requires: '6.0' }), rel('2.0', { requiresPhp: '7.4', requires: '5.8' }), rel('1.0', { requiresPhp: '7.2' })];

  test('a PHP 7.4 site is held at the last release supporting it, and told why', () => {
    const o = offer(releases, { php: '7.4.33' });
    expect(o.offer?.version).toBe('2.0');
    expect(o.allowed.map((r) => r.version)).toEqual(['2.0', '1.0']);
    expect(o.heldBack?.version).toBe('3.0');
    expect(o.compatNotice).toBe('Version 3.0 needs PHP 8.1 or later (this site runs PHP 7.4.33); update PHP to get it.');
  });

  test('WordPress version gates too; both at once', () => {
    expect(offer(releases, { wordpress: '6.4.2' }).offer?.version).toBe('2.5');
    expect(offer(releases, { wordpress: '6.4.2' }).compatNotice).toBe('Version 3.0 needs WordPress 6.5 or later (this site runs WordPress 6.4.2); update WordPress to get it.');
    expect(offer(releases, { wordpress: '5.9', php: '7.4' }).compatNotice).toBe('Version 3.0 needs PHP 8.1 or later (this site runs PHP 7.4) and WordPress 6.5 or later (this site runs WordPress 5.9); update them to get it.');
    expect(offer(releases, { wordpress: '6.5', php: '8.1' })).toMatchObject({ offer: { version: '3.0' }, heldBack: null, compatNotice: null });
  });

  test('no versions sent, or nothing that reads as a version: not gated', () => {
    expect(offer(releases).offer?.version).toBe('3.0');
    expect(offer(releases, { php: 'unknown', wordpress: '' }).offer?.version).toBe('3.0');
    expect(reportedVersion('8.2.12-1+deb12u1')).toBe('8.2.12');
  });

  test('nothing runnable: no offer, the newest held back with its reason', () => {
    const o = offer(releases, { php: '7.0' });
    expect(o.offer).toBeNull();
    expect(o.heldBack?.version).toBe('3.0');
  });

  test('gating applies to what the rollout and channel allow', () => {
    const mixed = [rel('3.0', { requiresPhp: '8.1', channel: 'beta' }), rel('2.0', { requiresPhp: '7.4' })];
    expect(offer(mixed, { php: '7.4' })).toMatchObject({ offer: { version: '2.0' }, heldBack: null, compatNotice: null });
  });
});

describe('licensing within channel and rollout', () => {
  const day = (iso: string) => Date.parse(iso);
  const code = (over: Partial<CodeState> = {}): CodeState => ({ id: 'c1', code: 'C'.repeat(32), productId: PRODUCT, revision: 1, expiresOn: null, maxDownloads: null, downloadsUsed: 0, maxSites: null, revoked: false, countedHosts: [], boundHosts: [], ...over });
  const releases = [rel('2.0', { releasedAt: day('2026-04-01T00:00:00Z') }), rel('1.1', { releasedAt: day('2026-02-01T00:00:00Z'), rolloutPercent: 10 }), rel('1.0', { releasedAt: day('2026-01-01T00:00:00Z') })];

  test("an expired code's entitlement picks among the releases this site may be offered", () => {
    const inside = hosts.find((host) => rolloutBucket(PRODUCT, host) < 1000)!;
    const outside = hosts.find((host) => rolloutBucket(PRODUCT, host) >= 1000)!;
    const verdict = (host: string) => {
      const o = offer(releases, { host });
      return updateVerdict({ free: false, live: o.offer!, versions: o.allowed, code: code({ expiresOn: '2026-03-01' }), host, installedVersion: '0.9', now: day('2026-06-01T00:00:00Z') });
    };
    expect(verdict(inside)).toMatchObject({ version: { version: '1.1' }, downloadable: true, error: { code: 'expired' } });
    expect(verdict(outside)).toMatchObject({ version: { version: '1.0' }, downloadable: true, error: { code: 'expired' } });
  });
});

test('the snapshot keeps ready releases no newer than live, newest first', () => {
  const all = [rel('1.0'), rel('2.0-beta1', { channel: 'beta' }), rel('1.10'), rel('1.9'), rel('2.1')];
  expect(orderReleases(all, '2.0').map((r) => r.version)).toEqual(['2.0-beta1', '1.10', '1.9', '1.0']);
  expect(orderReleases(all, null)).toEqual([]);
});
