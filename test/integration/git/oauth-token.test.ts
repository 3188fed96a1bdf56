import { sql } from 'drizzle-orm';
import { api, createApiKey } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { FakeGit } from '../../support/fake-git';
import { FakeOAuthProvider } from '../../support/fake-oauth';
import { WebClient } from '../../support/web-client';

/** A vendor who signed in with GitHub connects a repository without pasting a token. */
describe.each(DB_KINDS)('the token from sign-in (%s)', (kind) => {
  let app: TestApp;
  let github: FakeOAuthProvider;
  let fake: FakeGit;

  beforeAll(async () => {
    github = await FakeOAuthProvider.start('github');
    fake = new FakeGit();
    await fake.start();
    fake.signInApi = github.url;
    fake.moreTokens = () => [...(github as unknown as { tokens: Map<string, unknown> }).tokens.keys()];
    fake.repositories = ['octo/from-oauth', 'octo/second'];
    app = await startTestApp({ db: kind, env: { ...github.env(), ...fake.env() } });
    github.redirectUri = `${app.url}/auth/github/callback`;
  }, 120_000);
  afterAll(async () => {
    await app.stop();
    await github.close();
    await fake.stop();
  });

  test('sign-in asks for repository and hook scopes; its token (stored encrypted) lists repositories and creates the hook', async () => {
    github.account = { id: '4242', login: 'octo', emails: [{ email: 'octo-git@example.com', primary: true, verified: true }] };
    const web = new WebClient(app.url);
    const start = await web.get('/auth/github');
    expect(new URL(start.location!).searchParams.get('scope')).toBe('user:email,repo,admin:repo_hook');
    const consent = await fetch(start.location!, { redirect: 'manual' });
    const back = await web.get(consent.headers.get('location')!);
    expect(back.location).toBe('/products');
    const [issued] = fake.moreTokens();
    expect(issued).toEqual(expect.any(String));
    const rows = await app.runtime.database.db.execute(sql`select token_enc from provider_tokens`);
    const stored = (((rows as any).rows ?? rows) as { token_enc: string }[]).map((r) => r.token_enc);
    expect(stored).toHaveLength(1);
    expect(stored[0]).not.toContain(issued!);

    const key = await createApiKey(web);
    const id = (await api(app.url, key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'from-oauth', name: 'From OAuth', free: true })).json.id;
    const page = await web.get(`/products/${id}/builds`);
    expect(page.text).toContain('octo/second');
    expect(page.text).toContain('leave empty for GitHub to use the token from your GitHub sign-in');
    const put = await api(app.url, key, 'PUT', `/api/v1/products/${id}/repository`, { provider: 'github', repository: 'octo/from-oauth' });
    expect(put.status).toBe(200);
    expect(put.json.hook_created).toBe(true);
    expect(page.text).not.toContain(issued!);
  });
});
