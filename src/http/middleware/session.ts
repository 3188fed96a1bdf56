import type { Request, RequestHandler, Response } from 'express';
import { hmac, randomToken, safeEqual } from '../../lib/crypto';
import { ForbiddenError } from '../../lib/errors';
import { SESSION_LIFETIME_SECONDS, type SessionsService } from '../../services/sessions.service';
import { ANON_COOKIE, SESSION_COOKIE, clearCookie, readCookie, setCookie } from '../cookies';

/**
 * Loads the signed-in vendor from the session cookie (sessions live in PostgreSQL, so any app
 * server can serve any request) and derives the CSRF token bound to that session.
 */
export function loadSession(sessions: SessionsService, secret: string): RequestHandler {
  return async (req, res, next) => {
    try {
      const token = readCookie(req, SESSION_COOKIE);
      if (token && token.length < 200) {
        const user = await sessions.resolve(token);
        if (user) {
          req.user = user;
          req.sessionToken = token;
        }
      }
      let binding = req.sessionToken ? `s:${req.sessionToken}` : undefined;
      if (!binding) {
        let anon = readCookie(req, ANON_COOKIE);
        if (!anon || !/^[\w-]{20,100}$/.test(anon)) {
          anon = randomToken(24);
          setCookie(req, res, ANON_COOKIE, anon, 60 * 60 * 24);
        }
        binding = `a:${anon}`;
      }
      req.binding = binding;
      req.csrfToken = hmac(secret, `csrf|${binding}`);
      res.locals.user = req.user;
      res.locals.csrfToken = req.csrfToken;
      next();
    } catch (err) {
      next(err);
    }
  };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Synchronizer token on every state-changing page request: form field or X-CSRF-Token header. */
export const verifyCsrf: RequestHandler = (req, _res, next) => {
  if (SAFE.has(req.method)) return next();
  const sent = (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : undefined) ?? req.get('x-csrf-token');
  if (!sent || !req.csrfToken || !safeEqual(sent, req.csrfToken)) {
    return next(new ForbiddenError('This form has expired or did not come from Wharf. Go back, reload the page and try again.', 'csrf_failed'));
  }
  next();
};

export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  if (req.method === 'GET') return res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`);
  next(new ForbiddenError('Sign in first.', 'unauthorized'));
};

/** Hands the browser a new session, ending the one it had (no session fixation). */
export async function beginSession(req: Request, res: Response, sessions: SessionsService, token: string): Promise<void> {
  if (req.sessionToken) await sessions.destroy(req.sessionToken);
  setCookie(req, res, SESSION_COOKIE, token, SESSION_LIFETIME_SECONDS);
  req.binding = `s:${token}`;
}

export async function endSession(req: Request, res: Response, sessions: SessionsService): Promise<void> {
  if (req.sessionToken) await sessions.destroy(req.sessionToken);
  clearCookie(req, res, SESSION_COOKIE);
  // The browser is anonymous from here on: a flash written now ("Signed out.") belongs to that.
  let anon = readCookie(req, ANON_COOKIE);
  if (!anon || !/^[\w-]{20,100}$/.test(anon)) {
    anon = randomToken(24);
    setCookie(req, res, ANON_COOKIE, anon, 60 * 60 * 24);
  }
  req.binding = `a:${anon}`;
}
