import { loadConfig } from '../../../src/config';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { FakeOAuthProvider, type FakeAccount } from '../../support/fake-oauth';
import { WebClient } from '../../support/web-client';

type Res = Awaited<ReturnType<WebClient['get']>>;

/** Follows the redirect to the provider (which "consents" at once) and back to Wharf's callback. */
async function viaProvider(web: WebClient, fake: FakeOAuthProvider, start: Res): Promise<Res> {
  expect(start.status).toBe(302);
  expect(start.location!.startsWith(`${fake.url}/`)).toBe(true);
  const consent = await fetch(start.location!, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  return web.get(consent.headers.get('location')!);
}

async function signedInAs(web: WebClient): Promise<string | null> {
  const res = await web.get('/products');
  if (res.status !== 200) return null;
  return /Sign out \(([^)]+)\)/.exec(res.text)?.[1] ?? null;
}

const ghAccount = (id: number, email: string, verified = true): FakeAccount => ({
  id: String(id),
  login: `gh${id}`,
  name: 'Octo Cat',
  emails: [
    { email: `${id}+noreply@users.example.com`, primary: false, verified: true },
    { email, primary: true, verified },
  ],
});

describe.each(DB_KINDS)('sign in and sign up with GitHub and BitBucket (%s)', (db) => {
  let app: TestApp;
  let github: FakeOAuthProvider;
  let bitbucket: FakeOAuthProvider;

  beforeAll(async () => {
    github = await FakeOAuthProvider.start('github');
    bitbucket = await FakeOAuthProvider.start('bitbucket');
    app = await startTestApp({ db, env: { ...github.env(), ...bitbucket.env() } });
    github.redirectUri = `${app.url}/auth/github/callback`;
    bitbucket.redirectUri = `${app.url}/auth/bitbucket/callback`;
  });
  afterAll(async () => {
    await app.stop();
    await github.close();
    await bitbucket.close();
  });

  test('GitHub: a new vendor is created and signed in; the next sign-in reuses the account', async () => {
    github.account = ghAccount(1001, 'octo@example.com');
    const web = new WebClient(app.url);
    const login = await web.get('/login');
    expect(login.text).toContain('Sign in with GitHub');
    expect(login.text).toContain('Sign in with BitBucket');

    const start = await web.get('/auth/github');
    const stateCookie = start.headers.getSetCookie().find((c) => c.startsWith('wharf_oauth_state='))!;
    expect(stateCookie).toMatch(/HttpOnly/i);
    expect(stateCookie).toMatch(/SameSite=Lax/i);
    expect(stateCookie).toMatch(/Max-Age=600/i);
    const authorize = new URL(start.location!);
    expect(authorize.searchParams.get('scope')).toBe('user:email,repo,admin:repo_hook');
    expect(authorize.searchParams.get('state')!.length).toBeGreaterThanOrEqual(32);

    const back = await viaProvider(web, github, start);
    expect(back.location).toBe('/products');
    expect(await signedInAs(web)).toBe('octo@example.com');
    const user = await app.runtime.services.users.findByProvider('github', '1001');
    expect(user?.email).toBe('octo@example.com');

    const again = new WebClient(app.url);
    expect((await viaProvider(again, github, await again.get('/auth/github'))).location).toBe('/products');
    expect(await signedInAs(again)).toBe('octo@example.com');
    expect((await app.runtime.services.users.findByEmail('octo@example.com')).id).toBe(user!.id);

    // No password on this account: the password form says so, and GitHub still works.
    const form = new WebClient(app.url);
    await form.get('/login');
    const pw = await form.post('/login', { email: 'octo@example.com', password: 'any password at all' });
    expect(pw.status).toBe(422);
    expect(pw.text).toContain('This account has no password');
    expect(await signedInAs(form)).toBeNull();
  });

  test('BitBucket: a new vendor is created and signed in; the next sign-in reuses the account', async () => {
    bitbucket.account = {
      id: '{6d4d3c1e-0000-4000-8000-000000000001}',
      login: 'bucketeer',
      emails: [
        { email: 'old@example.com', primary: false, verified: false },
        { email: 'bucket@example.com', primary: true, verified: true },
      ],
    };
    const web = new WebClient(app.url);
    expect((await viaProvider(web, bitbucket, await web.get('/auth/bitbucket'))).location).toBe('/products');
    expect(await signedInAs(web)).toBe('bucket@example.com');

    const again = new WebClient(app.url);
    await again.get('/signup');
    expect(again.csrf).not.toBe('');
    expect((await viaProvider(again, bitbucket, await again.get('/auth/bitbucket'))).location).toBe('/products');
    expect(await signedInAs(again)).toBe('bucket@example.com');
    expect(bitbucket.tokenRequests.every((t) => t.ok)).toBe(true);
  });

  test('a callback whose state this browser did not issue is refused and signs nobody in', async () => {
    github.account = ghAccount(2002, 'attacker@example.com');
    // The attacker runs the flow in their own browser and stops before the callback...
    const attacker = new WebClient(app.url);
    const start = await attacker.get('/auth/github');
    const consent = await fetch(start.location!, { redirect: 'manual' });
    const forged = consent.headers.get('location')!;
    const tokensBefore = github.tokenRequests.length;

    // ...then makes the victim's browser open it: no state cookie at all.
    const victim = new WebClient(app.url);
    const res = await victim.get(forged);
    expect(res.location).toBe('/login?oauth=state&provider=github');
    expect((await victim.get(res.location!)).text).toContain('could not be verified');
    expect(await signedInAs(victim)).toBeNull();

    // A victim with a flow of their own in progress: the states differ.
    await victim.get('/auth/github');
    expect((await victim.get(forged)).location).toBe('/login?oauth=state&provider=github');
    expect(await signedInAs(victim)).toBeNull();

    // A state issued for BitBucket does not complete a GitHub callback.
    const other = new WebClient(app.url);
    const bbState = new URL((await other.get('/auth/bitbucket')).location!).searchParams.get('state')!;
    const code = new URL(forged).searchParams.get('code')!;
    expect((await other.get(`/auth/github/callback?code=${code}&state=${bbState}`)).location).toBe('/login?oauth=state&provider=github');

    expect(github.tokenRequests.length).toBe(tokensBefore); // the code was never exchanged
    expect(await app.runtime.services.users.findByProvider('github', '2002')).toBeNull();
  });

  test('denied consent and provider failures land on /login with a clear message', async () => {
    const web = new WebClient(app.url);
    github.deny = true;
    const denied = await viaProvider(web, github, await web.get('/auth/github'));
    expect(denied.location).toBe('/login?oauth=denied&provider=github');
    const page = await web.get(denied.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain('GitHub sign-in was cancelled');
    expect(await signedInAs(web)).toBeNull();

    bitbucket.account = { id: '{6d4d3c1e-0000-4000-8000-000000000009}', login: 'down', emails: [{ email: 'down@example.com', primary: true, verified: true }] };
    bitbucket.failToken = true;
    const failed = await viaProvider(web, bitbucket, await web.get('/auth/bitbucket'));
    expect(failed.location).toBe('/login?oauth=failed&provider=bitbucket');
    expect((await web.get(failed.location!)).text).toContain('BitBucket could not complete the sign-in');
    expect(await signedInAs(web)).toBeNull();
  });

  test('a provider without a verified primary email cannot create an account', async () => {
    github.account = ghAccount(3003, 'unverified@example.com', false);
    const web = new WebClient(app.url);
    const res = await viaProvider(web, github, await web.get('/auth/github'));
    expect(res.location).toBe('/login?oauth=no_verified_email&provider=github');
    expect(await app.runtime.services.users.emailTaken('unverified@example.com')).toBe(false);
  });

  test('an existing email is never merged; the vendor links GitHub from Account, then signs in with it', async () => {
    const owner = new WebClient(app.url);
    await owner.signUp('alice@example.com');
    await owner.get('/products');
    await owner.post('/logout');

    // Someone at GitHub claims (and verified) alice's address: explained, not merged, not signed in.
    github.account = ghAccount(4004, 'Alice@Example.com');
    const web = new WebClient(app.url);
    const res = await viaProvider(web, github, await web.get('/auth/github'));
    expect(res.location).toBe('/login?oauth=email_exists&provider=github');
    const page = await web.get(res.location!);
    expect(page.text).toContain('An account with this email already exists. Sign in with your password, then link GitHub from the Account page.');
    expect(await signedInAs(web)).toBeNull();
    expect(await app.runtime.services.users.findByProvider('github', '4004')).toBeNull();

    // Alice signs in with her password and links GitHub (a CSRF-protected POST from Account).
    await owner.get('/login');
    expect((await owner.post('/login', { email: 'alice@example.com', password: 'correct horse battery staple' })).status).toBe(302);
    await owner.get('/account');
    expect((await owner.post('/auth/github/link', {}, { csrf: false })).status).toBe(403);
    const linked = await viaProvider(owner, github, await owner.post('/auth/github/link'));
    expect(linked.location).toBe('/account');
    expect((await app.runtime.services.users.findByProvider('github', '4004'))?.email).toBe('alice@example.com');

    // From now on GitHub signs her in; her password still works too.
    const later = new WebClient(app.url);
    expect((await viaProvider(later, github, await later.get('/auth/github'))).location).toBe('/products');
    expect(await signedInAs(later)).toBe('alice@example.com');

    // Another vendor cannot link the same GitHub account.
    const bob = new WebClient(app.url);
    await bob.signUp('bob@example.com');
    await bob.get('/account');
    const taken = await viaProvider(bob, github, await bob.post('/auth/github/link'));
    expect(taken.location).toBe('/login?oauth=taken&provider=github');
    expect((await bob.get(taken.location!)).text).toContain('already linked to another Wharf account');
    expect(await signedInAs(bob)).toBe('bob@example.com');
  });

  test('linking needs a signed-in vendor and finishes only for the vendor who started it', async () => {
    const anon = new WebClient(app.url);
    await anon.get('/login');
    expect((await anon.post('/auth/github/link')).location).toBe('/login?next=%2Faccount');

    github.account = ghAccount(5005, 'carol-gh@example.com');
    const carol = new WebClient(app.url);
    await carol.signUp('carol@example.com');
    await carol.get('/account');
    const start = await carol.post('/auth/github/link');
    await carol.get('/products');
    await carol.post('/logout'); // signed out before coming back from GitHub
    const back = await viaProvider(carol, github, start);
    expect(back.location).toBe('/login?oauth=state&provider=github');
    expect(await app.runtime.services.users.findByProvider('github', '5005')).toBeNull();
  });

  test('two vendors linking the same provider account at once: one wins, the other is refused', async () => {
    const users = app.runtime.services.users;
    const a = await users.signUp('race-a@example.com', 'long enough password');
    const b = await users.signUp('race-b@example.com', 'long enough password');
    const results = await Promise.all([users.linkProvider(a.id, 'bitbucket', '{race}'), users.linkProvider(b.id, 'bitbucket', '{race}')]);
    expect(results.sort()).toEqual([false, true]);
  });
});

test('the buttons and routes exist only for providers whose id and secret are both set', async () => {
  const github = await FakeOAuthProvider.start('github');
  const none = await startTestApp();
  const onlyGitHub = await startTestApp({ env: github.env() });
  try {
    const web = new WebClient(none.url);
    for (const path of ['/login', '/signup']) {
      const page = await web.get(path);
      expect(page.text).not.toContain('with GitHub');
      expect(page.text).not.toContain('with BitBucket');
    }
    // Unknown pages send an anonymous visitor to sign in, as everywhere; never to a provider.
    expect((await web.get('/auth/github')).location).toBe('/login?next=%2Fauth%2Fgithub');
    await web.signUp('nobuttons@example.com');
    expect((await web.get('/auth/github')).status).toBe(404);
    expect((await web.get('/auth/bitbucket/callback?code=x&state=y')).status).toBe(404);

    const gh = new WebClient(onlyGitHub.url);
    const signup = await gh.get('/signup');
    expect(signup.text).toContain('Sign up with GitHub');
    expect(signup.text).not.toContain('with BitBucket');
    expect((await gh.get('/auth/bitbucket')).location).toMatch(/^\/login\?next=/);
  } finally {
    await none.stop();
    await onlyGitHub.stop();
    await github.close();
  }
});

test('half a client pair is a configuration error, not a hidden button', () => {
  expect(() => loadConfig({ GITHUB_CLIENT_ID: 'only-the-id' })).toThrow('GITHUB_CLIENT_SECRET: required when GITHUB_CLIENT_ID is set');
  expect(() => loadConfig({ BITBUCKET_CLIENT_SECRET: 'only-the-secret' })).toThrow('BITBUCKET_CLIENT_ID: required');
  expect(loadConfig({}).oauth).toEqual({ github: undefined, bitbucket: undefined });
});
