import { Readable } from 'node:stream';

export type GitProviderName = 'github' | 'bitbucket';
export const GIT_PROVIDERS: readonly GitProviderName[] = ['github', 'bitbucket'];
export const GIT_PROVIDER_LABELS: Record<GitProviderName, string> = { github: 'GitHub', bitbucket: 'BitBucket' };

/** A provider call that did not succeed. `retryable`: 5xx, 429 or no answer in time (the build is retried with backoff). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export type RepoList = { notModified: true } | { notModified: false; repositories: string[]; etag: string | null };

/** A ref that was pushed: a tag or a branch, and the commit it now points at. */
export interface PushedRef {
  kind: 'tag' | 'branch';
  name: string;
  sha: string;
}

export type BuildState = 'pending' | 'success' | 'failure';

/** What Wharf asks of a Git host; every URL comes from the configured API roots. */
export interface GitProvider {
  readonly name: GitProviderName;
  listRepositories(token: string, etag: string | null): Promise<RepoList>;
  createHook(token: string, repository: string, url: string, secret: string): Promise<string>;
  deleteHook(token: string, repository: string, hookId: string): Promise<void>;
  /** The zip of exactly this commit, following the provider's redirect; the body is streamed. */
  downloadArchive(token: string, repository: string, sha: string): Promise<Readable>;
  reportStatus(token: string, repository: string, sha: string, state: BuildState, url: string, description: string): Promise<void>;
}

const TIMEOUT_MS = 30_000;
const ARCHIVE_TIMEOUT_MS = 10 * 60_000;
const MAX_PAGES = 50;

async function call(url: string, init: RequestInit & { timeoutMs?: number }, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: init.redirect ?? 'follow', signal: AbortSignal.timeout(init.timeoutMs ?? TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error;
    throw new ProviderError(`${what}: no answer (${e.name === 'TimeoutError' ? 'timed out' : e.message})`, null, true);
  }
  if (res.ok || res.status === 304) return res;
  await res.body?.cancel().catch(() => undefined);
  const retryable = res.status >= 500 || res.status === 429;
  const hint = res.status === 401 ? ' (the token was refused)' : res.status === 403 ? ' (the token lacks a permission)' : res.status === 404 ? ' (not found, or the token cannot see it)' : '';
  throw new ProviderError(`${what}: the provider answered ${res.status}${hint}`, res.status, retryable);
}

function splitRepo(repository: string): [string, string] {
  const [owner, name] = repository.split('/');
  return [encodeURIComponent(owner!), encodeURIComponent(name!)];
}

/** `rel="next"` of an RFC 8288 Link header (GitHub's pagination). */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m) return m[1]!;
  }
  return null;
}

export class GitHubProvider implements GitProvider {
  readonly name = 'github' as const;

  constructor(private readonly api: string) {}

  private headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'wharf', ...extra };
  }

  async listRepositories(token: string, etag: string | null): Promise<RepoList> {
    // The first page's ETag stands for the list: a 304 on it costs no rate limit and means "unchanged".
    let url: string | null = `${this.api}/user/repos?per_page=100&sort=full_name`;
    const repositories: string[] = [];
    let firstEtag: string | null = null;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await call(url, { headers: this.headers(token, page === 0 && etag ? { 'if-none-match': etag } : {}) }, 'GitHub repository list');
      if (res.status === 304) return { notModified: true };
      if (page === 0) firstEtag = res.headers.get('etag');
      const rows = (await res.json()) as { full_name?: unknown }[];
      for (const r of rows) if (typeof r.full_name === 'string') repositories.push(r.full_name);
      url = nextLink(res.headers.get('link'));
    }
    return { notModified: false, repositories, etag: firstEtag };
  }

  async createHook(token: string, repository: string, url: string, secret: string): Promise<string> {
    const [o, r] = splitRepo(repository);
    const res = await call(`${this.api}/repos/${o}/${r}/hooks`, {
      method: 'POST',
      headers: this.headers(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ name: 'web', active: true, events: ['push'], config: { url, content_type: 'json', secret, insecure_ssl: '0' } }),
    }, 'GitHub webhook creation');
    return String(((await res.json()) as { id: unknown }).id);
  }

  async deleteHook(token: string, repository: string, hookId: string): Promise<void> {
    const [o, r] = splitRepo(repository);
    await call(`${this.api}/repos/${o}/${r}/hooks/${encodeURIComponent(hookId)}`, { method: 'DELETE', headers: this.headers(token) }, 'GitHub webhook removal');
  }

  async downloadArchive(token: string, repository: string, sha: string): Promise<Readable> {
    const [o, r] = splitRepo(repository);
    // GitHub answers 302 to codeload with a short-lived URL; fetch follows it (and drops our Authorization on another origin).
    const res = await call(`${this.api}/repos/${o}/${r}/zipball/${encodeURIComponent(sha)}`, { headers: this.headers(token), timeoutMs: ARCHIVE_TIMEOUT_MS }, 'GitHub archive download');
    return Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream);
  }

  async reportStatus(token: string, repository: string, sha: string, state: BuildState, url: string, description: string): Promise<void> {
    const [o, r] = splitRepo(repository);
    await call(`${this.api}/repos/${o}/${r}/statuses/${encodeURIComponent(sha)}`, {
      method: 'POST',
      headers: this.headers(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ state, target_url: url, description: description.slice(0, 140), context: 'wharf' }),
    }, 'GitHub commit status');
  }
}

const BB_STATES: Record<BuildState, string> = { pending: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED' };

export class BitbucketProvider implements GitProvider {
  readonly name = 'bitbucket' as const;

  constructor(
    private readonly api: string,
    private readonly web: string,
  ) {}

  /** An app password is pasted as `username:app-password` (Basic); anything else is an access token (Bearer). */
  private headers(token: string, extra: Record<string, string> = {}): Record<string, string> {
    const auth = token.includes(':') ? `Basic ${Buffer.from(token).toString('base64')}` : `Bearer ${token}`;
    return { authorization: auth, accept: 'application/json', 'user-agent': 'wharf', ...extra };
  }

  async listRepositories(token: string, etag: string | null): Promise<RepoList> {
    let url: string | null = `${this.api}/repositories?role=member&pagelen=100&sort=full_name`;
    const repositories: string[] = [];
    let firstEtag: string | null = null;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await call(url, { headers: this.headers(token, page === 0 && etag ? { 'if-none-match': etag } : {}) }, 'BitBucket repository list');
      if (res.status === 304) return { notModified: true };
      if (page === 0) firstEtag = res.headers.get('etag');
      const body = (await res.json()) as { values?: { full_name?: unknown }[]; next?: unknown };
      for (const r of body.values ?? []) if (typeof r.full_name === 'string') repositories.push(r.full_name);
      url = typeof body.next === 'string' ? body.next : null;
    }
    return { notModified: false, repositories, etag: firstEtag };
  }

  async createHook(token: string, repository: string, url: string, secret: string): Promise<string> {
    const [w, r] = splitRepo(repository);
    const res = await call(`${this.api}/repositories/${w}/${r}/hooks`, {
      method: 'POST',
      headers: this.headers(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ description: 'Wharf releases', url, active: true, secret, events: ['repo:push'] }),
    }, 'BitBucket webhook creation');
    return String(((await res.json()) as { uuid: unknown }).uuid);
  }

  async deleteHook(token: string, repository: string, hookId: string): Promise<void> {
    const [w, r] = splitRepo(repository);
    await call(`${this.api}/repositories/${w}/${r}/hooks/${encodeURIComponent(hookId)}`, { method: 'DELETE', headers: this.headers(token) }, 'BitBucket webhook removal');
  }

  async downloadArchive(token: string, repository: string, sha: string): Promise<Readable> {
    const [w, r] = splitRepo(repository);
    // BitBucket's 2.0 API has no archive endpoint: the archive is served by the web host (`/get/<sha>.zip`), redirecting to storage.
    const res = await call(`${this.web}/${w}/${r}/get/${encodeURIComponent(sha)}.zip`, { headers: this.headers(token), timeoutMs: ARCHIVE_TIMEOUT_MS }, 'BitBucket archive download');
    return Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream);
  }

  async reportStatus(token: string, repository: string, sha: string, state: BuildState, url: string, description: string): Promise<void> {
    const [w, r] = splitRepo(repository);
    await call(`${this.api}/repositories/${w}/${r}/commit/${encodeURIComponent(sha)}/statuses/build`, {
      method: 'POST',
      headers: this.headers(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ key: 'WHARF', state: BB_STATES[state], url, name: 'Wharf release', description: description.slice(0, 255) }),
    }, 'BitBucket build status');
  }
}

/** The refs a push event moved, from the provider's documented payload; deletions are left out. */
// A push is untrusted input: refs with absurd names are ignored, and one push builds at most this many refs.
const MAX_REF_NAME = 255;
const MAX_REFS_PER_PUSH = 20;
const saneName = (n: string) => n.length <= MAX_REF_NAME && !/[\x00-\x1f\x7f]/.test(n);

export function pushedRefs(provider: GitProviderName, payload: unknown): PushedRef[] {
  const p = payload as Record<string, any>;
  if (provider === 'github') {
    if (p?.deleted === true || typeof p?.ref !== 'string') return [];
    // For an annotated tag `after` names the tag object; head_commit is the commit it points at.
    const sha = typeof p.head_commit?.id === 'string' ? p.head_commit.id : p.after;
    const m = /^refs\/(tags|heads)\/(.+)$/.exec(p.ref);
    if (!m || !saneName(m[2]!) || typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) return [];
    return [{ kind: m[1] === 'tags' ? 'tag' : 'branch', name: m[2]!, sha }];
  }
  const changes = Array.isArray(p?.push?.changes) ? (p.push.changes as any[]) : [];
  const out: PushedRef[] = [];
  for (const c of changes) {
    const n = c?.new;
    if (!n || (n.type !== 'tag' && n.type !== 'branch') || typeof n.name !== 'string' || typeof n.target?.hash !== 'string') continue;
    if (!saneName(n.name) || !/^[0-9a-f]{40}$/.test(n.target.hash)) continue;
    out.push({ kind: n.type, name: n.name, sha: n.target.hash });
    if (out.length === MAX_REFS_PER_PUSH) break;
  }
  return out;
}
