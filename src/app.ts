import path from 'node:path';
import express, { type Express } from 'express';
import { errorHandler, notFound } from './http/error-handler';
import { fastPath, type RequestHandler } from './http/fast-path';
import { BODY_LIMITS, clientIp } from './http/wire';
import { requireApiKey } from './http/middleware/api-auth';
import { requestLog } from './http/middleware/request-log';
import { securityHeaders, uploadOriginOf } from './http/middleware/security-headers';
import { flashes } from './http/flash';
import { loadSession, requireUser, verifyCsrf } from './http/middleware/session';
import { buildAssetManifest, type AssetManifest } from './lib/assets';
import { accountRoutes } from './routes/account.routes';
import { clientErrorsApi } from './routes/api/client-errors.api';
import { licensesApi } from './routes/api/licenses.api';
import { productsApi } from './routes/api/products.api';
import { analyticsApi } from './routes/api/analytics.api';
import { analyticsRoutes } from './routes/analytics.routes';
import { purchaseCodesApi } from './routes/api/purchase-codes.api';
import { repositoryApi } from './routes/api/repository.api';
import { gitWebhooksApi } from './routes/api/git-webhooks.api';
import { webhooksApi } from './routes/api/webhooks.api';
import { authRoutes } from './routes/auth.routes';
import { oauthRoutes } from './routes/oauth.routes';
import { contentRoutes } from './routes/content.routes';
import { passwordRoutes } from './routes/password.routes';
import { mediaPublicRoutes, mediaRoutes } from './routes/media.routes';
import { detailsRoutes } from './routes/details.routes';
import { healthRoutes, type Readiness } from './routes/health.routes';
import { productRoutes } from './routes/products.routes';
import { purchaseCodeRoutes } from './routes/purchase-codes.routes';
import { gitRoutes } from './routes/git.routes';
import { releaseRoutes } from './routes/releases.routes';
import { notificationRoutes } from './routes/notifications.routes';
import { rolloutRoutes } from './routes/rollouts.routes';
import type { Runtime } from './runtime';

/** What the app is built from: an open runtime, plus what the server or a test decides. */
export interface AppDeps extends Pick<Runtime, 'config' | 'logger' | 'database' | 'storage' | 'services' | 'secretKey'> {
  readiness?: Readiness;
  assets?: AssetManifest;
}

export function viewsFolder(): string {
  const up = __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..';
  return path.resolve(__dirname, up, 'views');
}

/** Builds the app from its dependencies; connects to nothing itself. */
export function createApp(d: AppDeps): Express {
  const app = express();
  const assets = d.assets ?? buildAssetManifest();
  const readiness = d.readiness ?? { draining: false };
  const publicUrl = d.config.publicUrl;

  app.disable('x-powered-by');
  app.set('trust proxy', d.config.trustProxy);
  // req.ip as the fast path computes it (the wire's clientIp: the same hops trusted).
  Object.defineProperty(app.request, 'ip', { configurable: true, enumerable: true, get: function (this: express.Request) { return clientIp(this, d.config.trustProxy); } });
  app.set('views', viewsFolder());
  app.set('view engine', 'ejs');
  app.locals.asset = (name: string) => assets.urls[name] ?? `/assets/missing/${name}`;
  app.locals.publicUrl = publicUrl;
  app.locals.oauth = d.services.oauth.enabled; // the auth and account pages show a button per configured provider

  const providers = Object.values(d.config.oauth).flatMap((p) => (p ? [new URL(p.baseUrl).origin] : []));
  app.use(
    securityHeaders({
      uploadOrigin: uploadOriginOf(d.storage, d.logger),
      redirectOrigins: providers,
      framable: (req) => req.path.startsWith('/details/'), // WordPress frames "View details" from any site
    }),
  );
  app.get('/assets/:file', (req, res, next) => {
    const file = assets.files[req.params.file];
    if (!file) return next();
    res.sendFile(file, { immutable: true, maxAge: '365d' });
  });
  // Browsers that ask for /favicon.ico anyway (pages link the fingerprinted SVG) get it instead of a 404.
  app.get('/favicon.ico', (_req, res) => res.redirect(301, assets.urls['favicon.svg'] ?? '/'));
  app.use(healthRoutes(d.database, d.storage, readiness));
  app.use(requestLog(d.logger));

  app.use(clientErrorsApi(d.services)); // its own 8 KB text parser, so it comes before the app's

  // Git webhooks are signed over their raw bytes: parsed by their own route, before the JSON parser.
  app.use('/api', gitWebhooksApi(d.services));
  // Release zips go straight to S3; 1 MB (nginx's client_max_body_size) carries three 100,000-character product fields.
  app.use(express.json({ limit: BODY_LIMITS.json }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMITS.form }));

  // /api never falls through to the cookie-and-CSRF page stack.
  const api = express.Router();
  api.use('/v1', licensesApi(d.services));
  api.use('/v1', requireApiKey(d.services.users), productsApi(d.services, publicUrl), purchaseCodesApi(d.services), analyticsApi(d.services), webhooksApi(d.services), repositoryApi(d.services));
  api.use(notFound);
  app.use('/api', api);
  app.use(detailsRoutes(d.services)); // public and cookie-free: WordPress shows it in an iframe
  app.use(mediaPublicRoutes(d.services)); // banners and icons WordPress shows

  app.use(loadSession(d.services.sessions, d.secretKey));
  app.use(flashes(d.secretKey));
  app.use(verifyCsrf);
  app.use(authRoutes(d.services));
  app.use(oauthRoutes(d.services, d.config, d.logger));
  app.use(passwordRoutes(d.services));
  app.get('/', (req, res) => res.redirect(req.user ? '/products' : '/login'));
  app.use(requireUser);
  app.use(productRoutes(d.services, publicUrl));
  app.use(analyticsRoutes(d.services));
  app.use(releaseRoutes(d.services, publicUrl));
  app.use(contentRoutes(d.services));
  app.use(purchaseCodeRoutes(d.services));
  app.use(gitRoutes(d.services));
  app.use(rolloutRoutes(d.services));
  app.use(accountRoutes(d.services));
  app.use(notificationRoutes(d.services));
  app.use(mediaRoutes(d.services));

  app.use(notFound);
  app.use(errorHandler(d.logger));
  return app;
}

/** What the HTTP server runs: the update-check fast path in front of the Express app. */
export function createRequestHandler(d: AppDeps): RequestHandler {
  return fastPath(d.services, { trustProxy: d.config.trustProxy, logger: d.logger }, createApp(d));
}
