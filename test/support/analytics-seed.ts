import type { Checkin } from '../../src/services/updates/checkin.recorder';
import type { TestApp } from './app';

const DAY = 86_400_000;

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
export function rng(seed: number) {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

/**
 * Check-ins of `sites` sites over the last `days` days through the real recorder (the path the update check
 * takes), flushed in several batches: versions, WordPress, PHP, locales and licence verdicts vary, some sites
 * change version between checks, and no site checks twice at the same instant.
 */
export async function seedCheckins(app: TestApp, productId: string, opts: { sites: number; days: number; seed?: number; hostSuffix?: string; now?: number }): Promise<void> {
  const now = opts.now ?? Date.now();
  const next = rng(opts.seed ?? 42);
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const checkins = app.runtime.services.checkins;
  for (let site = 0; site < opts.sites; site++) {
    const host = `site${site}.${opts.hostSuffix ?? 'example.com'}`;
    let t = now - Math.floor(next() * opts.days) * DAY - Math.floor(next() * DAY);
    while (t < now) {
      checkins.record({
        productId,
        host,
        installedVersion: pick(['1.0', '1.1', '1.1', null]),
        wpVersion: pick(['6.4', '6.5', '6.7']),
        phpVersion: pick(['7.4', '8.2', '8.3', null]),
        locale: pick(['en_US', 'de_DE', 'fr_FR']),
        codeId: null,
        license: pick(['valid', 'valid', 'none', 'expired', 'revoked']),
        checkedAt: t,
      } satisfies Checkin);
      t += Math.floor(next() * 3 * DAY) + site + 1;
    }
    if (site % 20 === 0) await checkins.flush();
  }
  await checkins.flush();
}
