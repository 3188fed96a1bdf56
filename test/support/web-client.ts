/** A cookie-keeping HTTP client that behaves like a browser without JavaScript. */
export class WebClient {
  private cookies = new Map<string, string>();
  csrf = '';

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, init: { body?: string | URLSearchParams; headers?: Record<string, string> } = {}) {
    const res = await fetch(new URL(path, this.base), {
      method,
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    this.remember(res);
    const text = await res.text();
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(text);
    if (m && m[1]) this.csrf = m[1];
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') };
  }

  get(path: string) {
    return this.request('GET', path);
  }

  /** A form post carrying the CSRF token of the last page, unless told otherwise. */
  post(path: string, fields: Record<string, string> = {}, { csrf = true } = {}) {
    const body = new URLSearchParams(csrf ? { _csrf: this.csrf, ...fields } : fields);
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  postJson(path: string, { csrf = true } = {}) {
    return this.request('POST', path, { headers: { accept: 'application/json', ...(csrf ? { 'x-csrf-token': this.csrf } : {}) } });
  }

  /** Sign up a fresh vendor and stay signed in. */
  async signUp(email: string, password = 'correct horse battery staple') {
    await this.get('/signup');
    const res = await this.post('/signup', { email, password });
    if (res.status !== 302) throw new Error(`sign-up failed: ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }
}
