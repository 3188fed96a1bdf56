import crypto from 'node:crypto';
import type { Cache } from '../../adapters/cache/cache';
import type { JobQueue } from '../../adapters/queue/job-queue';
import type { Db } from '../../db/client';
import * as q from '../../db/queries/git.queries';
import { AppError, BadRequestError, NotFoundError, ValidationError } from '../../lib/errors';
import { isUuid } from '../../lib/validation';
import type { SecretBox } from '../../lib/secret-box';
import type { Logger } from '../../logger';
import type { ProductsService } from '../products.service';
import { GIT_PROVIDERS, pushedRefs, type GitProvider, type GitProviderName } from './git-providers';

export const BUILD_QUEUE = 'git.build';
export const DEFAULT_TAG_RULE = 'v*, *.*.*';
const REPO_LIST_FRESH_MS = 5 * 60_000;
const REPO_LIST_KEEP_SECONDS = 24 * 3600;

export type Rule = { tags: string } | { branch: string };

export interface ConnectionView {
  provider: GitProviderName;
  repository: string;
  rule: Rule;
  webhook_url: string;
  hook_created: boolean;
  token_source: string;
}

/** A tag pattern list (`v*, *.*.*`: `*` is any run of characters) → does this tag match? */
export function tagMatches(patterns: string, tag: string): boolean {
  return patterns
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(tag));
}

/** 401 for a webhook whose signature is missing or wrong; nothing has been written. */
export class BadSignatureError extends AppError {
  constructor() {
    super(401, 'invalid_signature', 'The webhook signature is missing or does not match this product’s secret.');
  }
}

export interface Delivery {
  productId: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export type DeliveryOutcome = { kind: 'ping' } | { kind: 'ignored'; reason: string } | { kind: 'duplicate' } | { kind: 'queued'; builds: string[] };

const header = (h: Delivery['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Connecting a product to a repository, the repository picker's cached list, and webhook deliveries. */
export class RepositoriesService {
  private readonly localRepoCache = new Map<string, { value: string; expires: number }>();

  constructor(
    private readonly db: Db,
    private readonly products: ProductsService,
    private readonly providers: Record<GitProviderName, GitProvider>,
    private readonly box: SecretBox,
    private readonly jobs: JobQueue,
    private readonly sharedCache: Cache | null,
    private readonly publicUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Keeps the access token of a GitHub/BitBucket sign-in or link (encrypted), for connecting repositories without pasting one. */
  async saveOAuthToken(userId: string, provider: GitProviderName, token: string): Promise<void> {
    await q.saveProviderToken(this.db, userId, provider, this.box.seal(token));
  }

  async hasOAuthToken(userId: string, provider: GitProviderName): Promise<boolean> {
    return (await q.findProviderToken(this.db, userId, provider)) !== undefined;
  }

  private async oauthToken(userId: string, provider: GitProviderName): Promise<string | null> {
    const sealed = await q.findProviderToken(this.db, userId, provider);
    return sealed ? this.box.open(sealed) : null;
  }

  webhookUrl(productId: string): string {
    return `${this.publicUrl}/api/v1/webhooks/git/${productId}`;
  }

  private view(c: q.ConnectionRow): ConnectionView {
    return {
      provider: c.provider,
      repository: c.repository,
      rule: c.ruleKind === 'tags' ? { tags: c.ruleValue } : { branch: c.ruleValue },
      webhook_url: this.webhookUrl(c.productId),
      hook_created: c.hookId !== null,
      token_source: c.tokenSource,
    };
  }

  async get(userId: string, productId: string): Promise<ConnectionView | null> {
    const product = await this.products.get(userId, productId);
    const c = await q.findConnection(this.db, product.id);
    return c ? this.view(c) : null;
  }

  /** Connects (or reconnects) a product; a new webhook secret each time, returned only here. */
  async connect(userId: string, productId: string, input: Record<string, unknown>): Promise<ConnectionView & { webhook_secret: string }> {
    const product = await this.products.get(userId, productId);
    const fields: Record<string, string> = {};
    const provider = input.provider;
    if (provider !== 'github' && provider !== 'bitbucket') fields.provider = 'Choose "github" or "bitbucket".';
    const repository = typeof input.repository === 'string' ? input.repository.trim() : '';
    if (!/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/.test(repository)) fields.repository = 'Give the repository as owner/name.';
    const rawRule = input.rule ?? { tags: DEFAULT_TAG_RULE };
    let rule: Rule | undefined;
    const r = rawRule as Record<string, unknown>;
    if (r && typeof r === 'object' && !Array.isArray(r) && Object.keys(r).length === 1) {
      if (typeof r.tags === 'string' && r.tags.trim() && r.tags.length <= 200 && !/[\x00-\x1f]/.test(r.tags)) rule = { tags: r.tags.trim() };
      else if (typeof r.branch === 'string' && /^[A-Za-z0-9._\/-]{1,200}$/.test(r.branch)) rule = { branch: r.branch };
    }
    if (!rule) fields.rule = 'Give { "tags": "v*" } (patterns, comma-separated) or { "branch": "main" }.';
    const pasted = input.token;
    if (pasted !== undefined && pasted !== null && pasted !== '' && (typeof pasted !== 'string' || pasted.length > 500 || /[\s\x00-\x1f]/.test(pasted))) fields.token = 'The token is not valid text.';
    if (Object.keys(fields).length) throw new ValidationError('The repository settings are not valid.', fields);
    const name = provider as GitProviderName;

    const existing = await q.findConnection(this.db, product.id);
    let token: string | null = typeof pasted === 'string' && pasted ? pasted : null;
    let source = 'pasted';
    if (!token && existing && existing.provider === name) {
      token = this.box.open(existing.tokenEnc);
      source = existing.tokenSource;
    }
    if (!token) {
      token = await this.oauthToken(userId, name);
      source = 'oauth';
    }
    if (!token) throw new ValidationError('Paste a token, or sign in with the provider from Account to link one.', { token: 'A token is needed to read the repository.' });

    // The old hook goes first (best effort), so a repository never calls two secrets.
    if (existing?.hookId) await this.removeHook(existing);
    const secret = crypto.randomBytes(32).toString('base64url');
    const row = await q.upsertConnection(this.db, {
      productId: product.id,
      userId,
      provider: name,
      repository,
      ruleKind: 'tags' in rule! ? 'tags' : 'branch',
      ruleValue: 'tags' in rule! ? rule.tags : (rule as { branch: string }).branch,
      tokenEnc: this.box.seal(token),
      tokenSource: source,
      webhookSecretEnc: this.box.seal(secret),
      hookId: null,
    });
    let hookId: string | null = null;
    try {
      hookId = await this.providers[name].createHook(token, repository, this.webhookUrl(product.id), secret);
      await q.setHookId(this.db, product.id, hookId);
    } catch (err) {
      this.logger.info({ productId: product.id, provider: name, err: (err as Error).message }, 'git: webhook not created; the vendor adds it by hand');
    }
    return { ...this.view({ ...row, hookId }), webhook_secret: secret };
  }

  async disconnect(userId: string, productId: string): Promise<void> {
    const product = await this.products.get(userId, productId);
    const c = await q.findConnection(this.db, product.id);
    if (!c) throw new NotFoundError('This product is not connected to a repository.');
    if (c.hookId) await this.removeHook(c);
    await q.deleteConnection(this.db, product.id);
  }

  private async removeHook(c: q.ConnectionRow): Promise<void> {
    try {
      await this.providers[c.provider].deleteHook(this.box.open(c.tokenEnc), c.repository, c.hookId!);
    } catch (err) {
      this.logger.info({ productId: c.productId, err: (err as Error).message }, 'git: old webhook not removed');
    }
  }

  /**
   * The vendor's repositories at a provider, cached per vendor for 5 minutes (memcached, else in
   * process); past that, or on Refresh, revalidated with the provider's ETag (a 304 keeps the list).
   */
  async listRepositories(userId: string, productId: string, providerName: unknown, opts: { refresh?: boolean } = {}): Promise<{ repositories: string[]; fromCache: boolean }> {
    const product = await this.products.get(userId, productId);
    const c = await q.findConnection(this.db, product.id);
    const name: GitProviderName = GIT_PROVIDERS.includes(providerName as GitProviderName) ? (providerName as GitProviderName) : (c?.provider ?? 'github');
    const token = c && c.provider === name ? this.box.open(c.tokenEnc) : await this.oauthToken(userId, name);
    if (!token) return { repositories: [], fromCache: false };
    const key = `git:repos:${userId}:${name}`;
    const cached = await this.cacheGet(key);
    const entry = cached ? (JSON.parse(cached) as { repositories: string[]; etag: string | null; at: number }) : null;
    if (entry && !opts.refresh && Date.now() - entry.at < REPO_LIST_FRESH_MS) return { repositories: entry.repositories, fromCache: true };
    const answer = await this.providers[name].listRepositories(token, entry?.etag ?? null);
    const next = answer.notModified ? { ...entry!, at: Date.now() } : { repositories: answer.repositories, etag: answer.etag, at: Date.now() };
    await this.cacheSet(key, JSON.stringify(next));
    return { repositories: next.repositories, fromCache: false };
  }

  private async cacheGet(key: string): Promise<string | null> {
    if (this.sharedCache) return (await this.sharedCache.get(key))?.toString('utf8') ?? null;
    const e = this.localRepoCache.get(key);
    return e && e.expires > Date.now() ? e.value : null;
  }

  private async cacheSet(key: string, value: string): Promise<void> {
    if (this.sharedCache) return this.sharedCache.set(key, value, REPO_LIST_KEEP_SECONDS);
    this.localRepoCache.set(key, { value, expires: Date.now() + REPO_LIST_KEEP_SECONDS * 1000 });
  }

  /**
   * A webhook delivery: signature first (HMAC-SHA256 of the raw body, constant time), then the event.
   * A push matching the rule queues one build per ref in one transaction with the delivery row, so
   * a redelivery (same delivery id) writes and builds nothing.
   */
  async receive(d: Delivery): Promise<DeliveryOutcome> {
    if (!isUuid(d.productId)) throw new NotFoundError('No such webhook.');
    const c = await q.findConnection(this.db, d.productId);
    if (!c) throw new NotFoundError('No such webhook.');
    const sent = header(d.headers, c.provider === 'github' ? 'x-hub-signature-256' : 'x-hub-signature') ?? '';
    const expected = 'sha256=' + crypto.createHmac('sha256', this.box.open(c.webhookSecretEnc)).update(d.rawBody).digest('hex');
    const a = Buffer.from(sent);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) throw new BadSignatureError();

    const event = c.provider === 'github' ? header(d.headers, 'x-github-event') : header(d.headers, 'x-event-key');
    if (event === 'ping' || event === 'diagnostics:ping') return { kind: 'ping' };
    if (event !== 'push' && event !== 'repo:push') return { kind: 'ignored', reason: `event ${String(event).slice(0, 50)} is not a push` };
    const deliveryId = header(d.headers, c.provider === 'github' ? 'x-github-delivery' : 'x-request-uuid');
    if (!deliveryId || deliveryId.length > 200 || /[\x00-\x1f]/.test(deliveryId)) throw new BadRequestError('The delivery id header is missing.');
    let payload: unknown;
    try {
      payload = JSON.parse(d.rawBody.toString('utf8'));
    } catch {
      throw new BadRequestError('The payload is not JSON.');
    }
    const refs = pushedRefs(c.provider, payload).filter((r) => (c.ruleKind === 'tags' ? r.kind === 'tag' && tagMatches(c.ruleValue, r.name) : r.kind === 'branch' && r.name === c.ruleValue));
    const ids = refs.map(() => crypto.randomUUID());
    const fresh = await this.db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      if (!(await q.insertDelivery(t, { provider: c.provider, deliveryId, productId: c.productId, buildId: ids[0] ?? null }))) return false;
      for (const [i, ref] of refs.entries()) {
        await q.insertBuild(t, {
          id: ids[i]!,
          productId: c.productId,
          provider: c.provider,
          repository: c.repository,
          ref: `refs/${ref.kind === 'tag' ? 'tags' : 'heads'}/${ref.name}`,
          commitSha: ref.sha,
        });
        // singleton policy keyed by product: one build of a product runs at a time, the others wait.
        const jobId = await this.jobs.send(BUILD_QUEUE, { buildId: ids[i]! }, { tx, singletonKey: c.productId });
        if (jobId) await q.setBuildJob(t, ids[i]!, jobId);
      }
      return true;
    });
    if (!fresh) return { kind: 'duplicate' };
    if (!refs.length) return { kind: 'ignored', reason: 'no pushed ref matches the rule' };
    this.logger.info({ productId: c.productId, builds: ids.length }, 'git: builds queued');
    return { kind: 'queued', builds: ids };
  }

  async listBuilds(userId: string, productId: string) {
    const product = await this.products.get(userId, productId);
    return { product, builds: await q.listBuilds(this.db, product.id) };
  }
}
