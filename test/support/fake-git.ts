import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildZip, type ZipEntrySpec } from './zip-builder';

/**
 * A local GitHub and BitBucket on one port, speaking the documented shapes Wharf relies on:
 * - GitHub (`/gh/api`): `GET /user/repos` paginated with `Link: <…>; rel="next"` and an ETag on
 *   the first page (a matching `If-None-Match` gets 304); `POST/DELETE /repos/:o/:r/hooks`;
 *   `GET /repos/:o/:r/zipball/:sha` → 302 to `/gh/codeload/…` (which serves the zip, top folder
 *   `owner-repo-sha7/`); `POST /repos/:o/:r/statuses/:sha`.
 * - BitBucket (`/bb/api` = 2.0): `GET /repositories?role=member` paginated with `next`, ETag/304;
 *   `POST/DELETE /repositories/:w/:r/hooks`; `POST /repositories/:w/:r/commit/:sha/statuses/build`;
 *   web host (`/bb/web`): `GET /:w/:r/get/:sha.zip` → 302 to `/bb/download/…`.
 * Every request needs the token it was given; it counts what it serves.
 */
export class FakeGit {
  url = '';
  token = `tok_${crypto.randomBytes(12).toString('hex')}`;
  /** The repositories the token sees. */
  repositories: string[] = [];
  /** Commit sha → files (paths relative to the repository root). */
  readonly commits = new Map<string, Record<string, string>>();
  readonly hooks: { provider: 'github' | 'bitbucket'; id: string; repository: string; url: string; secret: string }[] = [];
  readonly deletedHooks: string[] = [];
  readonly statuses: { provider: 'github' | 'bitbucket'; sha: string; state: string; url: string; description: string }[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** The next N archive downloads answer 502. */
  failArchives = 0;
  /** While set, archive downloads never answer (to kill the app mid-build). */
  hangArchives = false;
  /** Hook creation answers 403 (a token without that permission). */
  refuseHooks = false;
  /** GitHub sign-in's API (a FakeOAuthProvider): `/gh/api/user` and `/user/emails` are passed on to it, as both live on one API host. */
  signInApi: string | undefined;
  /** More tokens accepted (the ones sign-in handed out). */
  moreTokens: () => string[] = () => [];
  private server!: http.Server;
  private readonly hanging: http.ServerResponse[] = [];

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
          this.requests.push({ method: req.method!, path: req.url!.split('?')[0]!, status });
          res.writeHead(status, { ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers });
          res.end(body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body));
        };
        try {
          this.route(req, Buffer.concat(chunks), send, res);
        } catch (err) {
          send(500, { message: (err as Error).message });
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging.splice(0)) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Environment pointing Wharf at this fake. */
  env(): Record<string, string> {
    return { GITHUB_API_URL: `${this.url}/gh/api`, BITBUCKET_API_URL: `${this.url}/bb/api`, BITBUCKET_BASE_URL: `${this.url}/bb/web` };
  }

  count(method: string, prefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix)).length;
  }

  /** Adds a commit and returns its sha. */
  commit(files: Record<string, string>): string {
    const sha = crypto.createHash('sha1').update(JSON.stringify(files) + crypto.randomUUID()).digest('hex');
    this.commits.set(sha, files);
    return sha;
  }

  private etagOf(list: string[]): string {
    return `"${crypto.createHash('sha1').update(list.join('\n')).digest('hex')}"`;
  }

  private zipOf(repository: string, sha: string): Buffer | null {
    const files = this.commits.get(sha);
    if (!files) return null;
    const top = `${repository.replace('/', '-')}-${sha.slice(0, 7)}/`;
    const specs: ZipEntrySpec[] = [{ name: top }];
    const dirs = new Set<string>();
    for (const path of Object.keys(files)) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
    }
    for (const d of [...dirs].sort()) specs.push({ name: top + d });
    for (const [path, data] of Object.entries(files)) specs.push({ name: top + path, data });
    return buildZip(specs);
  }

  private route(req: http.IncomingMessage, body: Buffer, send: (s: number, b?: unknown, h?: Record<string, string>) => void, res: http.ServerResponse): void {
    const url = new URL(req.url!, this.url);
    const p = url.pathname;
    const method = req.method!;
    const auth = req.headers.authorization ?? '';
    // Bearer access token, or BitBucket's app password as Basic `username:password`.
    const basic = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const authorised = auth === `Bearer ${this.token}` || this.moreTokens().some((t) => auth === `Bearer ${t}` || auth === `token ${t}`) || (basic.includes(':') && basic.slice(basic.indexOf(':') + 1) === this.token);
    if (this.signInApi && method === 'GET' && (p === '/gh/api/user' || p === '/gh/api/user/emails')) {
      void fetch(`${this.signInApi}${p.slice('/gh/api'.length)}`, { headers: { authorization: auth, accept: 'application/json' } })
        .then(async (r) => send(r.status, JSON.parse(await r.text())))
        .catch(() => send(502, { message: 'sign-in API unreachable' }));
      return;
    }
    const isDownload = p.startsWith('/gh/codeload/') || p.startsWith('/bb/download/');
    if (!isDownload && !authorised) return send(401, { message: 'Bad credentials' });

    // Repository lists.
    if (method === 'GET' && (p === '/gh/api/user/repos' || p === '/bb/api/repositories')) {
      const all = [...this.repositories].sort();
      const etag = this.etagOf(all);
      const page = Number(url.searchParams.get('page') ?? '1');
      if (page === 1 && req.headers['if-none-match'] === etag) return send(304);
      const per = 2; // small pages, so pagination is exercised
      const slice = all.slice((page - 1) * per, page * per);
      const next = page * per < all.length ? `${this.url}${p}?${new URLSearchParams({ ...Object.fromEntries(url.searchParams), page: String(page + 1) })}` : null;
      if (p.startsWith('/gh/')) return send(200, slice.map((full_name) => ({ full_name })), { etag, ...(next ? { link: `<${next}>; rel="next", <${this.url}${p}?page=1>; rel="first"` } : {}) });
      return send(200, { values: slice.map((full_name) => ({ full_name })), pagelen: per, page, ...(next ? { next } : {}) }, { etag });
    }

    // Hooks.
    let m = /^\/gh\/api\/repos\/([^/]+)\/([^/]+)\/hooks(?:\/([^/]+))?$/.exec(p) ?? /^\/bb\/api\/repositories\/([^/]+)\/([^/]+)\/hooks(?:\/([^/]+))?$/.exec(p);
    if (m) {
      const provider = p.startsWith('/gh/') ? 'github' : 'bitbucket';
      const repository = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (!this.repositories.includes(repository)) return send(404, { message: 'Not Found' });
      if (method === 'POST' && !m[3]) {
        if (this.refuseHooks) return send(403, { message: 'Resource not accessible by integration' });
        const j = JSON.parse(body.toString('utf8'));
        const id = provider === 'github' ? String(1000 + this.hooks.length) : `{${crypto.randomUUID()}}`;
        const hookUrl = provider === 'github' ? j.config.url : j.url;
        const secret = provider === 'github' ? j.config.secret : j.secret;
        this.hooks.push({ provider, id, repository, url: hookUrl, secret });
        return send(201, provider === 'github' ? { id: Number(id), config: { url: hookUrl, content_type: 'json' } } : { uuid: id, url: hookUrl });
      }
      if (method === 'DELETE' && m[3]) {
        this.deletedHooks.push(decodeURIComponent(m[3]));
        return send(204);
      }
    }

    // Archives: a redirect, then the bytes.
    m = /^\/gh\/api\/repos\/([^/]+)\/([^/]+)\/zipball\/([0-9a-f]{40})$/.exec(p) ?? /^\/bb\/web\/([^/]+)\/([^/]+)\/get\/([0-9a-f]{40})\.zip$/.exec(p);
    if (m && method === 'GET') {
      if (this.hangArchives) {
        this.requests.push({ method, path: p, status: 0 });
        this.hanging.push(res);
        return;
      }
      if (this.failArchives > 0) {
        this.failArchives--;
        return send(502, { message: 'Server Error' });
      }
      if (!this.commits.has(m[3]!)) return send(404, { message: 'Not Found' });
      const target = p.startsWith('/gh/') ? `/gh/codeload/${m[1]}/${m[2]}/legacy.zip/${m[3]}?token=short-lived` : `/bb/download/${m[1]}/${m[2]}/${m[3]}.zip`;
      // Another origin (localhost, not 127.0.0.1), as codeload.github.com is: the API token must not follow.
      return send(302, undefined, { location: `${this.url.replace('127.0.0.1', 'localhost')}${target}` });
    }
    m = /^\/gh\/codeload\/([^/]+)\/([^/]+)\/legacy\.zip\/([0-9a-f]{40})$/.exec(p) ?? /^\/bb\/download\/([^/]+)\/([^/]+)\/([0-9a-f]{40})\.zip$/.exec(p);
    if (m && method === 'GET') {
      // The redirect target is another origin at GitHub: it must not receive the API token.
      if (auth && p.startsWith('/gh/')) return send(400, { message: 'token sent to codeload' });
      const zip = this.zipOf(`${m[1]}/${m[2]}`, m[3]!);
      return zip ? send(200, zip, { 'content-type': 'application/zip' }) : send(404);
    }

    // Statuses.
    m = /^\/gh\/api\/repos\/[^/]+\/[^/]+\/statuses\/([0-9a-f]{40})$/.exec(p) ?? /^\/bb\/api\/repositories\/[^/]+\/[^/]+\/commit\/([0-9a-f]{40})\/statuses\/build$/.exec(p);
    if (m && method === 'POST') {
      const j = JSON.parse(body.toString('utf8'));
      const gh = p.startsWith('/gh/');
      this.statuses.push({ provider: gh ? 'github' : 'bitbucket', sha: m[1]!, state: j.state, url: gh ? j.target_url : j.url, description: j.description });
      return send(201, { state: j.state });
    }
    send(404, { message: 'Not Found' });
  }
}

/** A push as GitHub sends it: JSON body, signed with the hook's secret. */
export function githubPush(secret: string, ref: string, sha: string, deliveryId: string = crypto.randomUUID()) {
  const body = JSON.stringify({ ref, before: '0'.repeat(40), after: sha, created: true, deleted: false, head_commit: { id: sha }, repository: { full_name: 'x/y' } });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex'),
    },
  };
}

/** A push as BitBucket sends it (`repo:push`, `push.changes[].new`). */
export function bitbucketPush(secret: string, kind: 'tag' | 'branch', name: string, sha: string, deliveryId: string = crypto.randomUUID()) {
  const body = JSON.stringify({ push: { changes: [{ new: { type: kind, name, target: { hash: sha } }, old: null, created: true }] }, repository: { full_name: 'x/y' } });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-event-key': 'repo:push',
      'x-request-uuid': deliveryId,
      'x-hub-signature': 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex'),
    },
  };
}
