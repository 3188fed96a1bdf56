import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import type { Storage } from '../../adapters/storage/storage';
import type { Logger } from '../../logger';

export interface SecurityHeaderOptions {
  /** Where browsers POST release zips (the presigned POST's origin); null when unknown. */
  uploadOrigin: Promise<string | null>;
  /** Where a form may end up after a redirect: the OAuth providers' sign-in pages. */
  redirectOrigins: string[];
  /** Pages other sites may frame (WordPress shows "View details" in an iframe). */
  framable: (req: Request) => boolean;
}

/** The origin of the URL the storage presigns uploads for: the truth for every backend and config. */
export async function uploadOriginOf(storage: Storage, logger: Logger): Promise<string | null> {
  try {
    const post = await storage.presignPost({ key: 'csp-origin-probe', maxBytes: 1, expiresSeconds: 60, contentType: 'application/zip' });
    return new URL(post.url).origin;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'security headers: cannot tell the upload origin; browser uploads will be refused by the CSP');
    return null;
  }
}

function policies(upload: string | null, redirectOrigins: string[]) {
  const base = {
    'default-src': ["'self'"],
    'base-uri': ["'none'"],
    'object-src': ["'none'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'font-src': ["'self'"],
  };
  const common = {
    referrerPolicy: { policy: 'same-origin' as const },
    strictTransportSecurity: false, // set below, and only over TLS
  };
  const dashboard = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...base,
        'img-src': ["'self'", 'data:'],
        // The upload page posts zips straight to S3, with fetch/XHR or as a plain form.
        'connect-src': ["'self'", ...(upload ? [upload] : [])],
        'form-action': ["'self'", ...(upload ? [upload] : []), ...redirectOrigins],
        'frame-ancestors': ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
  });
  // Framable by any site, and readme images may live anywhere on https; everything else as strict.
  const framable = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...base, 'img-src': ["'self'", 'data:', 'https:'], 'connect-src': ["'self'"], 'form-action': ["'self'"] },
    },
    xFrameOptions: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  return { dashboard, framable };
}

const hsts = helmet.strictTransportSecurity({ maxAge: 31536000, includeSubDomains: true });

/** helmet's headers on every Express response; HSTS only when the request came over TLS (req.secure honours TRUST_PROXY). */
export function securityHeaders(o: SecurityHeaderOptions): RequestHandler {
  let built: ReturnType<typeof policies> | undefined;
  const ready = o.uploadOrigin.then((origin) => (built = policies(origin, o.redirectOrigins)));
  return (req, res, next) => {
    const apply = () => {
      const policy = o.framable(req) ? built!.framable : built!.dashboard;
      policy(req, res, (err) => {
        if (err || !req.secure) return next(err);
        hsts(req, res, next);
      });
    };
    if (built) apply();
    else ready.then(apply, next);
  };
}
