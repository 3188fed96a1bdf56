import { AppError } from '../../lib/errors';
import { tokenExpiry, type DownloadTokens } from '../licensing/download-token.codec';
import { updateVerdict } from '../licensing/license.verdicts';
import { normalizeCode } from '../licensing/purchase-code.format';
import type { CodeState } from '../licensing/purchase-code.state';
import { siteHost, wordpressVersion } from '../licensing/site-host.rules';
import type { Catalog, ProductSnapshot, VersionMeta } from './catalog.service';
import type { CheckinRecorder } from './checkin.recorder';
import { asRelease, decideOffer, orderReleases, type ReleaseRef } from './rollout.decision';
import { finish, renderBase } from './update-json';

export interface CheckRequest {
  productId: string;
  installedVersion?: string | undefined;
  license?: string | undefined;
  domain?: string | undefined;
  userAgent?: string | undefined;
  php?: string | undefined;
  locale?: string | undefined;
  /** `beta`: the site asks for beta releases (the Wharf client's setting); anything else is stable. */
  channel?: string | undefined;
}

/** A 404 the PHP client and plugin-update-checker read as "no such product", not as a licence problem. */
export class UnknownProductError extends AppError {
  constructor(code: 'unknown_product' | 'no_release' = 'unknown_product') {
    super(404, code, code === 'no_release' ? 'This product has no released version yet.' : 'No product with this id.');
  }
}

const JSON_SAFE_SLUG = /^[a-z0-9._-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROLS = /[\u0000-\u001f\u007f]/g;

// Client-supplied text: bounded and free of control characters (PostgreSQL rejects NUL).
const short = (v: string | undefined, max = 64) => {
  if (!v) return null;
  const clean = CONTROL.test(v) ? v.replace(CONTROLS, '') : v;
  return (clean.length > max ? clean.slice(0, max) : clean) || null;
};

/**
 * The update check, top to bottom: load the product, resolve the code, decide, render.
 * Nothing here writes to the database; the check-in is buffered.
 */
export class UpdatesService {
  private readonly rendered = new Map<string, string>();
  /** `"<public URL>/api/v1/download/` as JSON text: tokens (base64url) and slugs need no escaping. */
  private readonly downloadPrefixJson: string;
  /** Older versions' metadata, for as long as the snapshot that lists them is the one in use. */
  private readonly olderVersions = new WeakMap<ProductSnapshot, Map<string, VersionMeta>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly tokens: DownloadTokens,
    private readonly checkins: CheckinRecorder,
    private readonly publicUrl: string,
  ) {
    this.downloadPrefixJson = JSON.stringify(`${publicUrl}/api/v1/download/`).slice(0, -1);
  }

  /** The answer's JSON text (always 200 for a known product); UnknownProductError otherwise. */
  async check(req: CheckRequest, now = Date.now()): Promise<string> {
    // In-process hits are taken without awaiting a promise each.
    const product = this.catalog.cachedProduct(req.productId) ?? (await this.catalog.product(req.productId));
    if (!product) throw new UnknownProductError();
    if (!product.live) throw new UnknownProductError('no_release');

    const host = siteHost(req.domain, req.userAgent);
    const installed = short(req.installedVersion);
    let code: CodeState | null | undefined;
    if (req.license !== undefined && req.license !== '') {
      const canonical = normalizeCode(req.license);
      const state = canonical ? (this.catalog.cachedCode(canonical) ?? (await this.catalog.code(canonical))) : null;
      code = state && state.productId === product.id ? state : null;
    }

    const wpVersion = wordpressVersion(req.userAgent);
    const php = short(req.php, 32);
    // Every check is counted, a held site too; the licence column says what its code was worth.
    const record = (license: string) =>
      this.checkins.record({
        productId: product.id,
        host,
        installedVersion: installed,
        wpVersion,
        phpVersion: php,
        locale: short(req.locale, 32),
        codeId: code ? code.id : null,
        license,
        checkedAt: now,
      });
    const rollout = decideOffer({
      productId: product.id,
      releases: product.releases ?? legacyReleases(product),
      host,
      beta: req.channel === 'beta' || code?.beta === true,
      php,
      wordpress: wpVersion,
    });
    // Nothing this site may run: announce what it cannot run (WordPress explains requires_php itself), or hold it where it is.
    const offered = rollout.offer ?? rollout.heldBack;
    if (!offered) {
      record(heldLicense(product.free, code));
      return this.hold(product, installed);
    }
    const decision = updateVerdict({ free: product.free, live: offered, versions: rollout.allowed, code, host, installedVersion: installed, now });
    if (!rollout.offer) decision.downloadable = false;
    const version = decision.version.id === product.live.id ? product.live : await this.olderVersion(product, decision.version.id);
    if (!version) throw new UnknownProductError();
    let downloadUrlJson: string | null = null;
    if (decision.downloadable) {
      const token = this.tokens.sign({ productId: product.id, versionId: version.id, codeId: code ? code.id : null, host, exp: tokenExpiry(now) });
      downloadUrlJson = JSON_SAFE_SLUG.test(product.slug) ? `${this.downloadPrefixJson}${token}/${product.slug}.zip"` : JSON.stringify(`${this.publicUrl}/api/v1/download/${token}/${product.slug}.zip`);
    }
    record(decision.error ? (decision.error.code === 'missing' ? 'none' : decision.error.code) : code ? 'valid' : 'none');
    const base = this.base(product, version);
    return finish(rollout.compatNotice ? `${base},"compat_notice":${JSON.stringify(rollout.compatNotice)}` : base, downloadUrlJson, decision.error);
  }

  /**
   * No release this site may be offered (a first release still rolling out elsewhere, or every
   * release pulled): the installed version is announced, so nothing newer shows.
   */
  private hold(product: ProductSnapshot, installed: string | null): string {
    const live = product.live!;
    const shown = installed ?? '0';
    const key = `${product.id}:${product.revision}:hold:${shown}`;
    let body = this.rendered.get(key);
    if (body === undefined) {
      body = finish(renderBase(product, { ...live, version: shown }, `${this.publicUrl}/details/${product.id}`), null, null);
      if (this.rendered.size > 10_000) this.rendered.clear();
      this.rendered.set(key, body);
    }
    return body;
  }

  /**
   * An expired code is offered an older version: one query per snapshot instead of one per check.
   * With the in-process cache off (CACHE_L1_TTL_MS=0) every check has its own snapshot, so every check queries.
   */
  private async olderVersion(product: ProductSnapshot, versionId: string): Promise<VersionMeta | null> {
    let known = this.olderVersions.get(product);
    const hit = known?.get(versionId);
    if (hit) return hit;
    const version = await this.catalog.version(product.id, versionId);
    if (version) {
      if (!known) this.olderVersions.set(product, (known = new Map()));
      known.set(versionId, version);
    }
    return version;
  }

  /** Rendered once per product revision and version. */
  private base(product: ProductSnapshot, version: VersionMeta): string {
    const key = `${product.id}:${product.revision}:${version.id}:${product.activeInstalls ?? ''}`;
    let base = this.rendered.get(key);
    if (base === undefined) {
      base = renderBase(product, version, `${this.publicUrl}/details/${product.id}`);
      if (this.rendered.size > 10_000) this.rendered.clear();
      this.rendered.set(key, base);
    }
    return base;
  }
}

const legacy = new WeakMap<ProductSnapshot, ReleaseRef[]>();

/** A snapshot cached (in memcached) before rollouts existed: every ready release, fully live. */
function legacyReleases(product: ProductSnapshot): ReleaseRef[] {
  let releases = legacy.get(product);
  if (!releases) legacy.set(product, (releases = orderReleases(product.versions.map(asRelease), product.live?.version ?? null)));
  return releases;
}

/** A held site (no release it may be offered) gets no full verdict: its code's standing is enough for analytics. */
function heldLicense(free: boolean, code: CodeState | null | undefined): string {
  if (code === undefined) return 'none';
  if (code === null) return free ? 'none' : 'unknown';
  return code.revoked && !free ? 'revoked' : 'valid';
}
