import { Router, type Request } from 'express';
import { handleForm } from '../http/forms';
import { endSession } from '../http/middleware/session';
import { BadRequestError } from '../lib/errors';
import { PASSWORD_MIN_LENGTH } from '../services/passwords';
import type { Services } from '../services';

export function accountRoutes(s: Services): Router {
  const r = Router();

  // The page's data: API keys (revoked ones only on request), and which providers are linked.
  const page = async (req: Request) => {
    const all = await s.users.listApiKeys(req.user!.id);
    const showRevoked = req.query.revoked === '1';
    return {
      title: 'Account and API keys',
      keys: showRevoked ? all : all.filter((k) => !k.revokedAt),
      revokedCount: all.filter((k) => k.revokedAt).length,
      showRevoked,
      oauthLinked: await s.users.linkedProviders(req.user!.id),
      hasPassword: await s.account.hasPassword(req.user!.id),
      minLength: PASSWORD_MIN_LENGTH,
      /** Which form came back with errors: its fields show them. */
      posted: '' as string,
      values: {} as Record<string, unknown>,
      errors: {},
    };
  };

  r.get('/account', async (req, res) => {
    res.set('Cache-Control', 'private, no-store').render('pages/account/show', await page(req));
  });

  // Post/redirect/get: the new key rides the one-time flash to the account page, so a reload shows
  // nothing and creates nothing.
  r.post('/account/api-keys', async (req, res) => {
    const locals = { ...(await page(req)), values: { name: req.body?.name }, posted: 'key' };
    await handleForm(res, 'pages/account/show', locals, async () => {
      const created = await s.users.createApiKey(req.user!.id, req.body?.name);
      res.flash({ kind: 'ok', text: `API key “${created.name}” created. Copy it now: it is shown only this once.`, secret: created.key });
      res.redirect(303, '/account');
    });
  });

  r.post('/account/api-keys/:id/revoke', async (req, res) => {
    const name = await s.users.revokeApiKey(req.user!.id, req.params.id);
    res.flash({ kind: 'ok', text: `API key “${name}” revoked. Requests using it are now refused.` });
    res.redirect(303, '/account');
  });

  // The address changes only once the link mailed to the new one is opened.
  r.post('/account/email', async (req, res) => {
    const locals = { ...(await page(req)), values: { email: req.body?.email }, posted: 'email' };
    await handleForm(res, 'pages/account/show', locals, async () => {
      const email = await s.account.requestEmailChange(req.user!.id, { email: req.body?.email, current: req.body?.current });
      res.flash({ kind: 'ok', text: `A confirmation link is on its way to ${email}. Your address changes when you open it.` });
      res.redirect(303, '/account');
    });
  });

  // Change it (current one required) or, on an account made through GitHub or BitBucket, set one.
  r.post('/account/password', async (req, res) => {
    await handleForm(res, 'pages/account/show', { ...(await page(req)), posted: 'password' }, async () => {
      await s.account.changePassword(req.user!.id, { current: req.body?.current, password: req.body?.password }, req.sessionToken);
      res.flash({ kind: 'ok', text: 'Password saved. Every other session of your account was signed out.' });
      res.redirect(303, '/account');
    });
  });

  r.post('/account/unlink/:provider', async (req, res) => {
    const provider = req.params.provider;
    if (provider !== 'github' && provider !== 'bitbucket') throw new BadRequestError('Unknown provider.');
    await s.account.unlinkProvider(req.user!.id, provider);
    res.flash({ kind: 'ok', text: `${provider === 'github' ? 'GitHub' : 'BitBucket'} unlinked: it no longer signs you in.` });
    res.redirect(303, '/account');
  });

  r.post('/account/delete', async (req, res) => {
    await handleForm(res, 'pages/account/show', { ...(await page(req)), posted: 'delete' }, async () => {
      await s.account.deleteAccount(req.user!.id, req.body?.confirmEmail);
      await endSession(req, res, s.sessions);
      res.flash({ kind: 'ok', text: 'Your account and everything in it were deleted.' });
      res.redirect(303, '/login');
    });
  });

  return r;
}
