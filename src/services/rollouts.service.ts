import { z } from 'zod';
import type { Db } from '../db/client';
import * as rq from '../db/queries/rollouts.queries';
import { NotFoundError, ValidationError } from '../lib/errors';
import { parseInput, wholeNumber } from '../lib/validation';
import type { Logger } from '../logger';
import type { CodeChanged } from './licensing/downloads.service';
import type { PurchaseCodesService } from './licensing/purchase-codes.service';
import type { Product, ProductsService } from './products.service';
import type { ReleasesService, Version } from './releases.service';
import { isPrerelease, rolloutBucket } from './updates/rollout.decision';

/** A new release's rollout: the product's default share of sites, beta when its Version is a pre-release. */
export function initialRollout(product: Pick<Product, 'defaultRolloutPercent'>, version: string): { rolloutPercent: number; channel: 'stable' | 'beta' } {
  return { rolloutPercent: product.defaultRolloutPercent, channel: isPrerelease(version) ? 'beta' : 'stable' };
}

const percent = wholeNumber({ min: 1, max: 100, empty: null, message: 'The rollout percentage must be a whole number from 1 to 100.' });
// JSON booleans, or what an HTML form sends.
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', 'on', 'off', '1', '0'])], { error: 'Send true or false.' })
  .optional()
  .transform((v) => (v === undefined ? undefined : v === true || v === 'true' || v === 'on' || v === '1'));

const versionSchema = z.object({
  rollout_percent: percent.optional(),
  paused: flag,
  channel: z.enum(['stable', 'beta'], { error: 'The channel is "stable" or "beta".' }).optional(),
  pulled: flag,
});

/** Field messages as the error's own message too: a dashboard form shows it on the error page. */
function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  try {
    return parseInput(schema, input);
  } catch (err) {
    if (err instanceof ValidationError && err.fields) throw new ValidationError(Object.values(err.fields).join(' '), err.fields);
    throw err;
  }
}

export type VersionRolloutInput = z.input<typeof versionSchema>;

/** The rollout fields of a version PATCH present in `raw` (other fields, e.g. release notes, are someone else's). */
export const VERSION_ROLLOUT_FIELDS = ['rollout_percent', 'paused', 'channel', 'pulled'] as const;

/**
 * Staged rollouts, the beta channel and pulling a release: the vendor's controls. Every change
 * bumps the product's (or code's) revision and reports it, so every app server's cache drops
 * the old answer (the update check itself decides in rollout.decision.ts).
 */
export class RolloutsService {
  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly releases: ReleasesService,
    private readonly purchaseCodes: PurchaseCodesService,
    private readonly onProductChanged: (productId: string) => void,
    private readonly onCodeChanged: CodeChanged,
    private readonly logger: Logger,
  ) {}

  /** Throws the ValidationError updateVersion would for a bad field, writing nothing. */
  parseVersionFields(input: unknown): void {
    parse(versionSchema, input && typeof input === 'object' ? input : {});
  }

  /** PATCH a version's rollout_percent, paused, channel and pulled (only the fields sent). */
  async updateVersion(userId: string, productId: string, ref: string, input: unknown): Promise<Version> {
    const raw = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
    const v = parse(versionSchema, raw);
    const { product, version } = await this.releases.findVersion(userId, productId, ref);
    const changes: rq.VersionRolloutChanges = {};
    if (v.rollout_percent !== undefined && v.rollout_percent !== null) changes.rolloutPercent = v.rollout_percent;
    else if ('rollout_percent' in raw) throw new ValidationError('The rollout percentage must be a whole number from 1 to 100.', { rollout_percent: 'The rollout percentage must be a whole number from 1 to 100.' });
    if (v.paused !== undefined) changes.rolloutPaused = v.paused;
    if (v.channel !== undefined) changes.channel = v.channel;
    if (v.pulled !== undefined) changes.pulledAt = v.pulled ? (version.pulledAt ?? new Date()) : null;
    if (!Object.keys(changes).length) return version;
    const row = await rq.updateVersionRollout(this.db, product.id, version.id, changes);
    if (!row) throw new NotFoundError('No such version');
    this.onProductChanged(product.id);
    this.logger.info({ productId: product.id, version: row.version, percent: row.rolloutPercent, paused: row.rolloutPaused, channel: row.channel, pulled: row.pulledAt !== null }, 'rollout: version changed');
    return row;
  }

  /** A default percentage as sent (JSON number or form digits), checked before anything is written. */
  parseDefaultPercent(value: unknown): number {
    const { default_rollout_percent: p } = parse(z.object({ default_rollout_percent: percent }), { default_rollout_percent: value });
    if (p === null) throw new ValidationError('The rollout percentage must be a whole number from 1 to 100.', { default_rollout_percent: 'The rollout percentage must be a whole number from 1 to 100.' });
    return p;
  }

  /** The percentage new releases of the product start at. */
  async setDefaultPercent(userId: string, productId: string, value: unknown): Promise<Product> {
    const p = this.parseDefaultPercent(value);
    const product = await this.products.get(userId, productId);
    const row = await rq.setDefaultRolloutPercent(this.db, userId, product.id, p);
    if (!row) throw new NotFoundError('No such product');
    return row;
  }

  /** Puts a code's sites on (or off) the beta channel. */
  async setCodeBeta(userId: string, productId: string, codeId: string, value: unknown) {
    const { beta: b } = parse(z.object({ beta: flag }), { beta: value });
    if (b === undefined) throw new ValidationError('Send true or false.', { beta: 'Send true or false.' });
    const { product } = await this.purchaseCodes.get(userId, productId, codeId);
    const row = await rq.setCodeBeta(this.db, product.id, codeId, b);
    if (!row) throw new NotFoundError('No such purchase code');
    this.onCodeChanged(row.code, row.revision);
    return row;
  }

  /**
   * For the dashboard, from the check-ins of the last 30 days: per version, how many sites run it
   * (their latest check) and how many fall inside its rollout (the sites it is offered to, before
   * channel, compatibility and licence).
   */
  async siteCounts(productId: string, versions: Pick<Version, 'version' | 'rolloutPercent'>[]): Promise<{ sites: number; byVersion: Map<string, { running: number; inRollout: number }> }> {
    const sites = await rq.recentSites(this.db, productId);
    const running = new Map<string, number>();
    for (const s of sites) if (s.version !== null) running.set(s.version, (running.get(s.version) ?? 0) + 1);
    const buckets = versions.some((v) => v.rolloutPercent < 100) ? sites.map((s) => rolloutBucket(productId, s.host)) : [];
    const byVersion = new Map<string, { running: number; inRollout: number }>();
    for (const v of versions) {
      const inRollout = v.rolloutPercent >= 100 ? sites.length : buckets.filter((b) => b < v.rolloutPercent * 100).length;
      byVersion.set(v.version, { running: running.get(v.version) ?? 0, inRollout });
    }
    return { sites: sites.length, byVersion };
  }

  /** One version with its site counts: the pull confirmation says how many sites already run it. */
  async versionWithCounts(userId: string, productId: string, ref: string) {
    const { product, version } = await this.releases.findVersion(userId, productId, ref);
    const counts = await this.siteCounts(product.id, [version]);
    return { product, version, running: counts.byVersion.get(version.version)!.running, sites: counts.sites };
  }
}
