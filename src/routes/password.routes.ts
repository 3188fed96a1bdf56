import { Router } from 'express';
import { handleForm } from '../http/forms';
import { beginSession } from '../http/middleware/session';
import type { Services } from '../services';
import { RESET_REQUESTED } from '../services/account.service';
import { PASSWORD_MIN_LENGTH } from '../services/passwords';

/** Signed-out account pages: a forgotten password, and the link that confirms a new address. */
export function passwordRoutes(s: Services): Router {
  const r = Router();
  const token = (v: unknown) => (typeof v === 'string' ? v : '');

  r.get('/password/forgot', (_req, res) => {
    res.render('pages/auth/forgot', { title: 'Forgot your password?', values: {}, errors: {} });
  });

  r.post('/password/forgot', async (req, res) => {
    const values = { email: typeof req.body?.email === 'string' ? req.body.email : '' };
    await handleForm(res, 'pages/auth/forgot', { title: 'Forgot your password?', values }, async () => {
      await s.account.requestPasswordReset(req.body?.email, req.ip);
      res.flash({ kind: 'ok', text: RESET_REQUESTED });
      res.redirect(303, '/login');
    });
  });

  // The token rides in the query string, which the request log never records.
  r.get('/password/reset', async (req, res) => {
    const t = token(req.query.token);
    const valid = await s.account.resetTokenValid(t);
    res.set('Cache-Control', 'private, no-store').set('Referrer-Policy', 'no-referrer');
    res.status(valid ? 200 : 410).render('pages/auth/reset', { title: 'Choose a new password', token: t, valid, minLength: PASSWORD_MIN_LENGTH, values: {}, errors: {} });
  });

  r.post('/password/reset', async (req, res) => {
    const t = token(req.body?.token);
    const locals = { title: 'Choose a new password', token: t, valid: true, minLength: PASSWORD_MIN_LENGTH, values: {} };
    await handleForm(res, 'pages/auth/reset', locals, async () => {
      const session = await s.account.resetPassword(t, req.body?.password);
      await beginSession(req, res, s.sessions, session);
      res.flash({ kind: 'ok', text: 'Password changed. You are signed in; every other session was signed out.' });
      res.redirect(303, '/products');
    });
  });

  r.get('/account/email/confirm', async (req, res) => {
    const email = await s.account.confirmEmailChange(token(req.query.token));
    res.set('Referrer-Policy', 'no-referrer');
    res.flash({ kind: 'ok', text: `Your address is now ${email}.` });
    res.redirect(303, req.user ? '/account' : '/login');
  });

  return r;
}
