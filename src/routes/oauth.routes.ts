import { Router, type NextFunction, type Request, type Response } from 'express';
import passport from 'passport';
import { Strategy as BitbucketStrategy, type BitbucketStrategyOptions } from 'passport-bitbucket-oauth2';
import { Strategy as GitHubStrategy } from 'passport-github2';
import type { OAuth2 } from 'oauth';
import type { Config, OAuthProviderConfig } from '../config';
import { clearCookie, readCookie, setCookie } from '../http/cookies';
import { beginSession } from '../http/middleware/session';
import { randomToken, safeEqual } from '../lib/crypto';
import { BadRequestError } from '../lib/errors';
import { controlCharProblem } from '../lib/validation';
import type { Logger } from '../logger';
import type { Services } from '../services';
import type { OAuthNotice, OAuthProvider, ProviderProfile } from '../services/oauth.service';

// Our own state store (no express-session): the state lives in a cookie bound to this browser.
const STATE_COOKIE = 'wharf_oauth_state';
const STATE_MAX_AGE = 10 * 60;

type Done = (err?: unknown, profile?: unknown) => void;
const ACCESS_TOKEN = Symbol('access token');
type Mode = 'login' | 'link';
interface SavedState { provider: OAuthProvider; mode: Mode; userId: string; state: string }

function getJson(oauth2: OAuth2, url: string, token: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    oauth2.get(url, token, (err, body) => {
      if (err) return reject(new Error(`${url} answered ${(err as { statusCode?: number }).statusCode ?? 'with an error'}`));
      try {
        resolve(JSON.parse(String(body)));
      } catch {
        reject(new Error(`${url} did not answer JSON`));
      }
    });
  });
}

/** The packaged strategy reads only /user (and needs `links`); we also need /user/emails to know what is verified. */
class BitbucketWithEmails extends BitbucketStrategy {
  constructor(private readonly apiUrl: string, options: BitbucketStrategyOptions, verify: (a: string, r: string, p: unknown, d: Done) => void) {
    super(options, verify);
  }

  override userProfile(token: string, done: Done): void {
    Promise.all([getJson(this._oauth2, `${this.apiUrl}/user`, token), getJson(this._oauth2, `${this.apiUrl}/user/emails`, token)])
      .then(([user, emails]) => {
        const u = user as { uuid?: unknown };
        const list = ((emails as { values?: unknown[] })?.values ?? []) as { email?: unknown; is_primary?: unknown; is_confirmed?: unknown }[];
        done(null, {
          id: u.uuid,
          emails: list.map((e) => ({ value: e.email, primary: e.is_primary === true, verified: e.is_confirmed === true })),
        });
      })
      .catch(done);
  }
}

/** Both strategies hand over { id, emails: [{ value, primary, verified }] }; anything else is a provider failure. */
function toProfile(provider: OAuthProvider, raw: unknown): ProviderProfile {
  const p = raw as { id?: unknown; emails?: { value?: unknown; primary?: unknown; verified?: unknown }[] };
  const id = provider === 'github' ? (raw as { _json?: { id?: unknown } })._json?.id : p.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).length === 0 || String(id).length > 200 || controlCharProblem(String(id))) {
    throw new Error(`${provider} returned a profile without an id`);
  }
  const emails = (p.emails ?? [])
    .filter((e) => typeof e.value === 'string')
    .map((e) => ({ email: String(e.value), primary: e.primary === true, verified: e.verified === true }))
    .filter((e) => !controlCharProblem(e.email)); // never an address, and PostgreSQL refuses a NUL
  return { provider, id: String(id), emails };
}

function strategies(config: Config): Partial<Record<OAuthProvider, passport.Strategy>> {
  // The access token rides along on the profile: Releases from Git may use it (stored encrypted, never logged).
  const verify = (access: string, _refresh: string, profile: unknown, done: Done) => done(null, Object.assign(profile as object, { [ACCESS_TOKEN]: access }));
  const cb = (p: OAuthProvider) => `${config.publicUrl}/auth/${p}/callback`;
  const out: Partial<Record<OAuthProvider, passport.Strategy>> = {};
  const gh: OAuthProviderConfig | undefined = config.oauth.github;
  if (gh) {
    out.github = new GitHubStrategy(
      {
        clientID: gh.clientId,
        clientSecret: gh.clientSecret,
        callbackURL: cb('github'),
        authorizationURL: `${gh.baseUrl}/login/oauth/authorize`,
        tokenURL: `${gh.baseUrl}/login/oauth/access_token`,
        userProfileURL: `${gh.apiUrl}/user`,
        userEmailURL: `${gh.apiUrl}/user/emails`,
        // Releases from Git: read private repositories (`repo`) and create their webhooks (`admin:repo_hook`).
        scope: ['user:email', 'repo', 'admin:repo_hook'],
        allRawEmails: true, // keeps the `verified` flag of every address
        userAgent: 'Wharf',
      },
      verify,
    );
  }
  const bb = config.oauth.bitbucket;
  if (bb) {
    out.bitbucket = new BitbucketWithEmails(
      bb.apiUrl,
      {
        clientID: bb.clientId,
        clientSecret: bb.clientSecret,
        callbackURL: cb('bitbucket'),
        authorizationURL: `${bb.baseUrl}/site/oauth2/authorize`,
        tokenURL: `${bb.baseUrl}/site/oauth2/access_token`,
        // Releases from Git: read repositories and create their webhooks (the consumer must be granted them too).
        scope: ['account', 'email', 'repository', 'webhook'],
      },
      verify,
    );
  }
  return out;
}

function readState(req: Request): SavedState | undefined {
  const [provider, mode, userId, state, extra] = (readCookie(req, STATE_COOKIE) ?? '').split('.');
  if (extra !== undefined || !provider || !mode || !userId || !state) return undefined;
  if ((provider !== 'github' && provider !== 'bitbucket') || (mode !== 'login' && mode !== 'link')) return undefined;
  return { provider, mode, userId, state };
}

/** Sign-in, sign-up and linking with GitHub and BitBucket (the /auth/* paths only). */
export function oauthRoutes(s: Services, config: Config, logger: Logger): Router {
  const r = Router();
  const auth = new passport.Passport(); // our own instance: no global state shared between apps
  const enabled = strategies(config);
  for (const [name, strategy] of Object.entries(enabled)) auth.use(name, strategy);
  if (!Object.keys(enabled).length) return r;
  const providerOf = (v: unknown) => s.oauth.providerOf(v);

  const start = (mode: Mode) => (req: Request, res: Response, next: NextFunction) => {
    const provider = providerOf(req.params.provider);
    if (!provider) return next();
    // A code here would make passport exchange it without any state check.
    if (req.query.code !== undefined || req.body?.code !== undefined) throw new BadRequestError('Unexpected code parameter.');
    if (mode === 'login' && req.user) return res.redirect('/products');
    if (mode === 'link' && !req.user) return res.redirect('/login?next=%2Faccount');
    const state = randomToken(24);
    setCookie(req, res, STATE_COOKIE, [provider, mode, req.user?.id ?? '-', state].join('.'), STATE_MAX_AGE);
    auth.authenticate(provider, { session: false, state })(req, res, next);
  };
  r.get('/auth/:provider', start('login'));
  r.post('/auth/:provider/link', start('link')); // POST: the CSRF check applies

  r.get('/auth/:provider/callback', (req, res, next) => {
    const provider = providerOf(req.params.provider);
    if (!provider) return next();
    const saved = readState(req);
    clearCookie(req, res, STATE_COOKIE);
    const refuse = (notice: OAuthNotice) => res.redirect(`/login?oauth=${notice}&provider=${provider}`);
    const sent = typeof req.query.state === 'string' ? req.query.state : '';
    // Login CSRF: only finish a flow this browser started, for this provider (and, when linking, this vendor).
    if (!saved || saved.provider !== provider || !sent || !safeEqual(sent, saved.state)) return refuse('state');
    if (saved.mode === 'link' && req.user?.id !== saved.userId) return refuse('state');

    const finish = async (err: unknown, raw: unknown) => {
      let profile: ProviderProfile;
      try {
        if (err) throw err;
        if (!raw) return refuse('denied'); // access_denied at the provider
        profile = toProfile(provider, raw);
      } catch (e) {
        const oe = (e as { oauthError?: { statusCode?: number } }).oauthError;
        logger.warn({ reqId: req.requestId, provider, reason: (e as Error).message, status: oe?.statusCode }, 'oauth sign-in failed');
        return refuse('failed');
      }
      const outcome = await s.oauth.complete(profile, saved.mode === 'link' ? saved.userId : undefined);
      if (outcome.kind === 'refused') return refuse(outcome.notice);
      const access = (raw as { [ACCESS_TOKEN]?: unknown })[ACCESS_TOKEN];
      if (typeof access === 'string' && access) await s.repositories.saveOAuthToken(outcome.user.id, provider, access);
      if (outcome.kind === 'linked') return res.redirect(303, '/account');
      await beginSession(req, res, s.sessions, await s.sessions.create(outcome.user.id));
      logger.info({ reqId: req.requestId, provider, userId: outcome.user.id, created: outcome.created }, 'oauth sign-in');
      res.redirect(303, '/products');
    };
    auth.authenticate(provider, { session: false }, (err: unknown, raw: unknown) => void finish(err, raw).catch(next))(req, res, next);
  });

  return r;
}
