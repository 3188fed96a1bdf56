import { Router } from 'express';
import { handleForm, safeNext } from '../http/forms';
import { beginSession, endSession } from '../http/middleware/session';
import type { Services } from '../services';
import { isOAuthNotice, oauthMessage } from '../services/oauth.service';
import { PASSWORD_MIN_LENGTH } from '../services/passwords';

export function authRoutes(s: Services): Router {
  const r = Router();
  const signupPage = { title: 'Create your account', minLength: PASSWORD_MIN_LENGTH };

  r.get('/signup', (req, res) => {
    if (req.user) return res.redirect('/products');
    res.render('pages/auth/signup', { ...signupPage, values: {}, errors: {} });
  });

  r.post('/signup', async (req, res) => {
    const values = { email: typeof req.body?.email === 'string' ? req.body.email : '' };
    await handleForm(res, 'pages/auth/signup', { ...signupPage, values }, async () => {
      const { token } = await s.auth.signUp({ email: req.body?.email, password: req.body?.password }, req.ip);
      await beginSession(req, res, s.sessions, token);
      res.redirect('/products');
    });
  });

  r.get('/login', (req, res) => {
    // A failed GitHub or BitBucket sign-in lands here with ?oauth=<notice> naming what happened.
    const notice = isOAuthNotice(req.query.oauth) ? oauthMessage(req.query.oauth, s.oauth.providerOf(req.query.provider)) : undefined;
    if (req.user && !notice) return res.redirect(safeNext(req.query.next));
    res.render('pages/auth/login', { title: 'Sign in', values: { next: safeNext(req.query.next) }, errors: {}, message: notice });
  });

  r.post('/login', async (req, res) => {
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase() : '';
    const values = { email, next: safeNext(req.body?.next) };
    await handleForm(res, 'pages/auth/login', { title: 'Sign in', values }, async () => {
      const { token } = await s.auth.signIn({ email: req.body?.email, password: req.body?.password }, req.ip);
      await beginSession(req, res, s.sessions, token);
      res.redirect(values.next);
    });
  });

  r.post('/logout', async (req, res) => {
    await endSession(req, res, s.sessions);
    res.flash({ kind: 'ok', text: 'Signed out.' });
    res.redirect(303, '/login');
  });

  return r;
}
