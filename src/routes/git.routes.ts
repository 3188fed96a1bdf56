import { Router } from 'express';
import { handleForm } from '../http/forms';
import { AppError } from '../lib/errors';
import type { Services } from '../services';
import { GIT_PROVIDER_LABELS, ProviderError } from '../services/git/git-providers';
import { DEFAULT_TAG_RULE } from '../services/git/repositories.service';

/** Dashboard: connect a product to a repository, and its builds. */
export function gitRoutes(s: Services): Router {
  const r = Router();

  async function page(userId: string, productId: string, opts: { refresh?: boolean; provider?: unknown } = {}) {
    const { product, builds } = await s.repositories.listBuilds(userId, productId);
    const connection = await s.repositories.get(userId, productId);
    let choices: string[] = [];
    let choicesError: string | undefined;
    try {
      choices = (await s.repositories.listRepositories(userId, productId, opts.provider ?? connection?.provider, { refresh: opts.refresh === true })).repositories;
    } catch (err) {
      if (!(err instanceof ProviderError || err instanceof AppError)) throw err;
      choicesError = `The repository list could not be loaded: ${err.message}`;
    }
    const signInTokens = { github: await s.repositories.hasOAuthToken(userId, 'github'), bitbucket: await s.repositories.hasOAuthToken(userId, 'bitbucket') };
    return {
      title: `Releases from Git · ${product.name}`,
      signInTokens,
      product,
      builds,
      connection,
      choices,
      choicesError,
      labels: GIT_PROVIDER_LABELS,
      values: connection
        ? { provider: connection.provider, repository: connection.repository, rule_kind: 'tags' in connection.rule ? 'tags' : 'branch', rule_value: 'tags' in connection.rule ? connection.rule.tags : connection.rule.branch }
        : { provider: typeof opts.provider === 'string' ? opts.provider : 'github', repository: '', rule_kind: 'tags', rule_value: DEFAULT_TAG_RULE },
      errors: {},
      // Without JavaScript the page reloads itself while a build runs.
      refreshSeconds: builds.some((b) => b.status === 'queued' || b.status === 'building') ? 3 : 0,
    };
  }

  r.get('/products/:id/builds', async (req, res) => {
    res.render('pages/git/builds', await page(req.user!.id, req.params.id, { refresh: req.query.refresh === '1', provider: req.query.provider }));
  });

  r.post('/products/:id/repository', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, string>;
    const locals = await page(req.user!.id, req.params.id, { provider: b.provider });
    await handleForm(res, 'pages/git/builds', { ...locals, values: { ...b, token: '' } }, async () => {
      const kind = b.rule_kind === 'branch' ? 'branch' : 'tags';
      const c = await s.repositories.connect(req.user!.id, req.params.id, {
        provider: b.provider,
        repository: b.repository,
        ...(b.token ? { token: b.token } : {}),
        rule: { [kind]: (b.rule_value ?? '').trim() || (kind === 'tags' ? DEFAULT_TAG_RULE : 'main') },
      });
      // The secret is shown this once (it is stored encrypted and never shown again).
      res.render('pages/git/builds', { ...(await page(req.user!.id, req.params.id)), connected: c });
    });
  });

  r.post('/products/:id/repository/delete', async (req, res) => {
    await s.repositories.disconnect(req.user!.id, req.params.id);
    res.redirect(`/products/${req.params.id}/builds`);
  });

  return r;
}
