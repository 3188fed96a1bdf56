import { loginThrottles } from '../../../src/db/schema';
import { AppError, ValidationError } from '../../../src/lib/errors';
import { AUTH_RULES } from '../../../src/services/auth.service';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { WebClient } from '../../support/web-client';

/**
 * Guessing passwords slows down per (account, client network) with growing waits, never locking
 * the owner out from their own network; the per-network limit still holds; weak passwords are
 * refused with zxcvbn's advice. Behind nginx (TRUST_PROXY=1) X-Forwarded-For names the client.
 */

const PASSWORD = 'correct horse battery staple';

/** A browser at a given address (as nginx reports it). */
class Browser extends WebClient {
  constructor(base: string, readonly ip: string) {
    super(base);
  }

  override request(method: string, path: string, init: { body?: string | URLSearchParams; headers?: Record<string, string> } = {}) {
    return super.request(method, path, { ...init, headers: { ...init.headers, 'x-forwarded-for': this.ip } });
  }

  async login(email: string, password: string) {
    if (!this.csrf) await this.get('/login');
    return this.post('/login', { email, password });
  }
}

describe.each(DB_KINDS)('sign-in throttling (%s)', (db) => {
  let app: TestApp;
  let ipCounter = 10;
  const freshIp = () => `198.51.100.${ipCounter++}`;
  const signUp = async (email: string) => {
    const b = new Browser(app.url, freshIp());
    await b.signUp(email, PASSWORD);
  };

  beforeAll(async () => {
    app = await startTestApp({ db, env: { TRUST_PROXY: '1' } });
  });
  afterAll(() => app.stop());

  test("an attacker's guesses slow down only their own network: the owner still signs in from theirs", async () => {
    await signUp('owner@example.com');
    const attacker = new Browser(app.url, '203.0.113.66');
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_RULES.freeFailures + 3; i++) statuses.push((await attacker.login('owner@example.com', `guess number ${i}`)).status);
    expect(statuses).toEqual([...Array(AUTH_RULES.freeFailures).fill(422), 429, 429, 429]);

    const refused = await attacker.login('owner@example.com', PASSWORD); // even the right password waits
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.text).toContain('Too many failed sign-ins to this account from your network. Wait');
    expect(refused.text).toContain('<form method="post" action="/login"'); // the form stays, to try again later

    const owner = new Browser(app.url, '192.0.2.10');
    const ok = await owner.login('owner@example.com', PASSWORD);
    expect(ok.status).toBe(302);
    expect((await owner.get('/products')).text).toContain('owner@example.com');
  });

  test('the failure that starts the waits says how long, and a success clears the count', async () => {
    await signUp('typo@example.com');
    const me = new Browser(app.url, freshIp());
    for (let i = 1; i < AUTH_RULES.freeFailures; i++) expect((await me.login('typo@example.com', 'not my password')).text).toContain('Wrong email or password.');
    const last = await me.login('typo@example.com', 'not my password either');
    expect(last.status).toBe(422);
    expect(last.text).toContain('Too many failed attempts from your network: wait 1 second before trying again.');
    await new Promise((r) => setTimeout(r, AUTH_RULES.firstDelayMs + 200));
    expect((await me.login('typo@example.com', PASSWORD)).status).toBe(302);
    const rows = await app.runtime.database.db.select().from(loginThrottles);
    expect(rows.some((r) => r.network === me.ip)).toBe(false);
  });

  test('each further failure doubles the wait, up to the cap; a quiet day starts again from zero', async () => {
    await signUp('doubling@example.com');
    const auth = app.runtime.services.auth;
    const ip = freshIp();
    // Fewer than 30 attempts in any 15 minutes, so the per-network limit never answers here.
    let now = new Date('2031-01-01T00:00:00Z');
    const attempt = async (password = 'wrong password here') => {
      try {
        await auth.signIn({ email: 'doubling@example.com', password }, ip, now);
        return 'ok';
      } catch (err) {
        if (err instanceof ValidationError) return 'wrong';
        if (err instanceof AppError && err.status === 429) return Number(err.headers!['Retry-After']);
        throw err;
      }
    };
    for (let i = 0; i < AUTH_RULES.freeFailures; i++) expect(await attempt()).toBe('wrong');
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const wait = await attempt();
      expect(typeof wait).toBe('number');
      waits.push(wait as number);
      if (i === 0 || i === 11) expect(await attempt()).toBe(wait); // asking again early changes nothing
      now = new Date(now.getTime() + (wait as number) * 1000);
      expect(await attempt()).toBe('wrong'); // allowed once the wait is over, and wrong again
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);

    now = new Date(now.getTime() + AUTH_RULES.forgetAfterMs + 1000);
    expect(await attempt()).toBe('wrong');
    expect(await attempt()).toBe('wrong'); // counting from one again: no wait yet
    expect(await attempt(PASSWORD)).toBe('ok');
  });

  test('parallel guesses from one network cannot slip past the wait', async () => {
    await signUp('parallel@example.com');
    const auth = app.runtime.services.auth;
    const ip = freshIp();
    const now = new Date('2032-01-01T00:00:00Z');
    for (let i = 0; i < AUTH_RULES.freeFailures - 1; i++) await expect(auth.signIn({ email: 'parallel@example.com', password: 'nope nope nope' }, ip, now)).rejects.toBeInstanceOf(ValidationError);
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => auth.signIn({ email: 'parallel@example.com', password: 'nope nope nope' }, ip, now)));
    const statuses = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as AppError).status : 200)).sort();
    expect(statuses).toEqual([422, 429, 429, 429, 429, 429, 429, 429]);
  });

  test('the per-network limit holds across accounts, and IPv6 addresses count per /64', async () => {
    const v6 = (n: number) => `2001:db8:aa:bb:${n.toString(16)}::1`;
    const statuses: number[] = [];
    for (let i = 0; i <= AUTH_RULES.perNetwork.limit; i++) {
      statuses.push((await new Browser(app.url, v6(i)).login(`nobody-${i}@example.com`, 'some password or other')).status);
    }
    expect(statuses.slice(0, AUTH_RULES.perNetwork.limit).every((s) => s === 422)).toBe(true);
    const limited = await new Browser(app.url, '2001:db8:aa:bb::99').login('someone-else@example.com', PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many sign-in attempts from your network.');
    expect(statuses.at(-1)).toBe(429);
    expect((await new Browser(app.url, '2001:db8:aa:cc::1').login('nobody@example.com', 'some password or other')).status).toBe(422); // another /64
  });

  test('weak and common passwords are refused at sign-up with advice; nothing is created', async () => {
    const web = new Browser(app.url, freshIp());
    await web.get('/signup');
    const cases: [string, RegExp][] = [
      ['short1!', /Use at least 10 characters\./],
      ['password1234', /too easy to guess\. This is similar to a commonly used password\./],
      ['qwertyuiop123', /too easy to guess\./],
      ['weakling@example.com', /too easy to guess\./],
      ['aaaaaaaaaaaaaaa', /Repeated characters like &#34;aaa&#34; are easy to guess\./],
    ];
    for (const [password, message] of cases) {
      const res = await web.post('/signup', { email: 'weakling@example.com', password });
      expect({ password, status: res.status }).toEqual({ password, status: 422 });
      expect(res.text).toMatch(new RegExp(`id="password-error">[^<]*${message.source}`));
      expect(res.text).toContain('value="weakling@example.com"');
    }
    const login = await web.post('/login', { email: 'weakling@example.com', password: 'password1234' });
    expect(login.status).toBe(422); // never created
    expect((await web.post('/signup', { email: 'weakling@example.com', password: 'mossy granite kettle 77' })).status).toBe(302);
  });
});
