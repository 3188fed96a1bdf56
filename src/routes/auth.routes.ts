import { Router, type Request, type Response } from 'express';
import { ValidationError } from '../lib/errors';
import type { Services } from '../services';
import { SESSION_COOKIE, clearCookie, setCookie } from '../http/cookies';
import { handleForm, safeNext } from '../http/forms';

const WINDOW = 15 * 60 * 1000;
const SESSION_MAX_AGE = 30 * 24 * 3600;

export function authRoutes(s: Services): Router {
  const r = Router();

  const signIn = async (req: Request, res: Response, userId: string) => {
    setCookie(req, res, SESSION_COOKIE, await s.users.createSession(userId), SESSION_MAX_AGE);
  };

  r.get('/signup', (req, res) => {
    if (req.user) return res.redirect('/products');
    res.render('pages/auth/signup', { title: 'Create your account', values: {}, errors: {} });
  });

  r.post('/signup', async (req, res) => {
    const values = { email: String(req.body?.email ?? '') };
    await handleForm(res, 'pages/auth/signup', { title: 'Create your account', values }, async () => {
      await s.rateLimits.hit(`signup:ip:${req.ip}`, { limit: 20, windowMs: 60 * 60 * 1000 });
      const user = await s.users.signUp(req.body?.email, req.body?.password);
      await signIn(req, res, user.id);
      res.redirect('/products');
    });
  });

  r.get('/login', (req, res) => {
    if (req.user) return res.redirect(safeNext(req.query.next));
    res.render('pages/auth/login', { title: 'Sign in', values: { next: safeNext(req.query.next) }, errors: {} });
  });

  r.post('/login', async (req, res) => {
    const email = String(req.body?.email ?? '').trim().toLowerCase();
    const password = String(req.body?.password ?? '');
    const values = { email, next: safeNext(req.body?.next) };
    await handleForm(res, 'pages/auth/login', { title: 'Sign in', values }, async () => {
      // Per IP and per account, counted before the password check so guessing costs attempts.
      await s.rateLimits.hit(`login:ip:${req.ip}`, { limit: 30, windowMs: WINDOW });
      await s.rateLimits.hit(`login:account:${email}`, { limit: 10, windowMs: WINDOW });
      let userId: string;
      try {
        userId = (await s.users.authenticate(email, password)).id;
      } catch {
        throw new ValidationError('Wrong email or password.', { password: 'Wrong email or password.' });
      }
      await s.rateLimits.reset(`login:account:${email}`);
      await signIn(req, res, userId);
      res.redirect(values.next);
    });
  });

  r.post('/logout', async (req, res) => {
    if (req.sessionToken) await s.users.destroySession(req.sessionToken);
    clearCookie(req, res, SESSION_COOKIE);
    res.redirect('/login');
  });

  return r;
}
