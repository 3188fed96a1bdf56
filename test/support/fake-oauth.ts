import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Who "signs in" at the fake provider; the test sets it before each flow. */
export interface FakeAccount {
  id: string; // GitHub's numeric id or BitBucket's {uuid}
  login: string;
  name?: string;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

export type Dialect = 'github' | 'bitbucket';

const PATHS = {
  github: { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', api: '' },
  bitbucket: { authorize: '/site/oauth2/authorize', token: '/site/oauth2/access_token', api: '/2.0' },
};

/**
 * A local provider speaking GitHub's or BitBucket's documented OAuth web flow: web host and
 * API on one port. It checks client id, secret and redirect_uri like the real ones do.
 */
export class FakeOAuthProvider {
  account: FakeAccount | undefined;
  /** The next authorize request answers error=access_denied, as when the user clicks Cancel. */
  deny = false;
  /** The next token exchange fails as if the provider were down. */
  failToken = false;
  /** Must be set once the app's port is known. */
  redirectUri = '';
  readonly clientId = `client-${crypto.randomUUID()}`;
  readonly clientSecret = `secret-${crypto.randomUUID()}`;
  readonly tokenRequests: { ok: boolean }[] = [];
  private readonly codes = new Map<string, { account: FakeAccount; redirectUri: string }>();
  private readonly tokens = new Map<string, FakeAccount>();
  private server!: http.Server;
  url = '';

  constructor(readonly dialect: Dialect) {}

  static async start(dialect: Dialect): Promise<FakeOAuthProvider> {
    const fake = new FakeOAuthProvider(dialect);
    fake.server = http.createServer((req, res) => {
      fake.handle(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The app's environment for this provider. */
  env(): Record<string, string> {
    const P = this.dialect.toUpperCase();
    return {
      [`${P}_CLIENT_ID`]: this.clientId,
      [`${P}_CLIENT_SECRET`]: this.clientSecret,
      [`${P}_BASE_URL`]: this.url,
      [`${P}_API_URL`]: `${this.url}${PATHS[this.dialect].api}`,
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const p = PATHS[this.dialect];
    if (req.method === 'GET' && u.pathname === p.authorize) return this.authorize(u, res);
    if (req.method === 'POST' && u.pathname === p.token) return this.token(req, res);
    if (req.method === 'GET' && u.pathname === `${p.api}/user`) return this.user(req, res, false);
    if (req.method === 'GET' && u.pathname === `${p.api}/user/emails`) return this.user(req, res, true);
    send(res, 404, { message: 'Not Found' });
  }

  private authorize(u: URL, res: http.ServerResponse): void {
    const q = u.searchParams;
    // Real providers show an error page (no redirect) for an unknown client or a foreign redirect_uri.
    if (q.get('client_id') !== this.clientId) return send(res, 404, { error: 'unknown client_id' });
    if (q.get('redirect_uri') !== this.redirectUri) return send(res, 400, { error: 'redirect_uri mismatch' });
    if (q.get('response_type') !== 'code') return send(res, 400, { error: 'unsupported response_type' });
    const back = new URL(this.redirectUri);
    if (this.deny || !this.account) {
      this.deny = false;
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The user has denied your application access.');
    } else {
      const code = crypto.randomBytes(10).toString('hex');
      this.codes.set(code, { account: structuredClone(this.account), redirectUri: this.redirectUri });
      back.searchParams.set('code', code);
    }
    if (q.get('state') !== null) back.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: back.toString() }).end();
  }

  private async token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    // Client credentials in the body (GitHub) or HTTP Basic (BitBucket accepts both).
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [bid, bsecret] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [];
    const id = form.get('client_id') ?? bid;
    const secret = form.get('client_secret') ?? bsecret;
    const code = form.get('code') ?? '';
    const grant = this.codes.get(code);
    this.codes.delete(code); // codes are single-use
    let error: string | undefined;
    if (this.failToken) {
      this.failToken = false;
      return send(res, 503, { message: 'Service Unavailable' });
    }
    if (id !== this.clientId || secret !== this.clientSecret) error = 'incorrect_client_credentials';
    else if (!grant) error = 'bad_verification_code';
    else if (form.get('redirect_uri') !== grant.redirectUri) error = 'redirect_uri_mismatch';
    this.tokenRequests.push({ ok: !error });
    const json = this.dialect === 'bitbucket' || /json/.test(req.headers.accept ?? '');
    if (error) {
      // GitHub answers 200 with an error body; BitBucket a 400.
      const status = this.dialect === 'github' ? 200 : 400;
      return json ? send(res, status, { error }) : sendForm(res, status, { error });
    }
    const token = crypto.randomBytes(16).toString('hex');
    this.tokens.set(token, grant!.account);
    const body = { access_token: token, token_type: 'bearer', scope: this.dialect === 'github' ? 'user:email' : 'account email' };
    return json ? send(res, 200, body) : sendForm(res, 200, body);
  }

  private user(req: http.IncomingMessage, res: http.ServerResponse, emails: boolean): void {
    const m = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '');
    const a = m ? this.tokens.get(m[1]!) : undefined;
    if (!a) return send(res, 401, { message: 'Bad credentials' });
    if (this.dialect === 'github') {
      if (emails) return send(res, 200, a.emails);
      const publicEmail = a.emails.find((e) => e.primary)?.email ?? null;
      return send(res, 200, { id: Number(a.id), login: a.login, name: a.name ?? null, email: publicEmail, html_url: `${this.url}/${a.login}` });
    }
    if (emails) {
      const values = a.emails.map((e) => ({ type: 'email', email: e.email, is_primary: e.primary, is_confirmed: e.verified }));
      return send(res, 200, { pagelen: 10, page: 1, size: values.length, values });
    }
    send(res, 200, { uuid: a.id, username: a.login, display_name: a.name ?? a.login, links: { html: { href: `${this.url}/${a.login}/` } } });
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function sendForm(res: http.ServerResponse, status: number, body: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(new URLSearchParams(body).toString());
}
