import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { events, webhookEndpoints } from '../../../src/db/schema';
import { EVENT_TYPES } from '../../../src/services/events/event-types';
import { api } from '../../support/api-client';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, fetchJson, newVendor, productWithReleases, updateCheck, type Vendor } from '../../support/fixtures';
import { pluginZip, postToS3 } from '../../support/releases';
import { WebhookReceiver } from '../../support/webhook-receiver';

const FAST = { WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_POLL_MS: '100', RATE_LIMIT_LICENSES_PER_MINUTE: '1000' };

async function release(app: TestApp, v: Vendor, productId: string, zip: Buffer) {
  const post = await api(app.url, v.key, 'POST', `/api/v1/products/${productId}/uploads`);
  expect((await postToS3(post.json, zip)).status).toBe(204);
  return api(app.url, v.key, 'POST', `/api/v1/products/${productId}/versions`, { key: post.json.key });
}

async function deliveriesOf(app: TestApp, v: Vendor, endpointId: string) {
  const res = await api(app.url, v.key, 'GET', `/api/v1/webhooks/${endpointId}/deliveries`);
  expect(res.status).toBe(200);
  return res.json.deliveries as any[];
}

async function until<T>(fn: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(DB_KINDS)('notifications: signed webhooks, Slack and Discord (%s)', (db) => {
  let app: TestApp;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    app = await startTestApp({ db, env: FAST });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await rx.stop();
  });

  test('a generic receiver verifies release.published with standardwebhooks within seconds of a finalize', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'wh-pub', versions: [] });
    const created = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: rx.url, kind: 'webhook', events: ['release.published'], productIds: [p.id] });
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    // Shown once: the list never carries it.
    const list = await api(app.url, v.key, 'GET', '/api/v1/webhooks');
    expect(list.json.webhooks).toEqual([expect.objectContaining({ id: created.json.id, kind: 'webhook', url: rx.url, events: ['release.published'], productIds: [p.id], disabled: false })]);
    expect(list.text).not.toContain('whsec_');
    // Stored sealed (AES-GCM under a key derived from SECRET_KEY): a database dump alone reveals neither.
    const [stored] = await app.runtime.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, created.json.id));
    expect(stored!.url).toMatch(/^v1\./);
    expect(stored!.secret).toMatch(/^v1\./);
    expect(JSON.stringify(stored)).not.toContain(created.json.secret.slice(6));
    expect(JSON.stringify(stored)).not.toContain('localhost');

    const finalized = Date.now();
    expect((await release(app, v, p.id, pluginZip('wh-pub', '1.0'))).status).toBe(201);
    const got = await rx.waitFor((r) => r.json?.type === 'release.published' && r.json.data.product.id === p.id);
    expect(got.at - finalized).toBeLessThan(20_000);
    const verified = new Webhook(created.json.secret).verify(got.body, got.headers as Record<string, string>) as any;
    expect(verified).toMatchObject({ type: 'release.published', data: { product: { id: p.id, slug: 'wh-pub', name: 'Product wh-pub' }, version: '1.0', live: true } });
    expect(new Date(verified.timestamp).toISOString()).toBe(verified.timestamp);
    expect(got.headers['webhook-id']).toMatch(/^msg_/);
    // A wrong secret does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`).verify(got.body, got.headers as Record<string, string>)).toThrow();

    const log = await until(async () => (await deliveriesOf(app, v, created.json.id)).find((d) => d.status === 'delivered'));
    expect(log).toMatchObject({ event: 'release.published', status: 'delivered', attempts: 1, statusCode: 200, webhookId: got.headers['webhook-id'] });
    expect(log.attemptLog).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, response: 'ok', error: null })]);
    expect(typeof log.attemptLog[0].durationMs).toBe('number');
  });

  test('Slack and Discord get their documented payloads, with a dashboard link', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'wh-chat', versions: [] });
    const slack = await WebhookReceiver.start();
    const discord = await WebhookReceiver.start();
    try {
      const s = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: slack.url, kind: 'slack', events: ['code.created'] });
      const d = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: discord.url, kind: 'discord', events: ['code.created'] });
      expect(s.status).toBe(201);
      expect(s.json.secret).toBeUndefined();
      expect(d.status).toBe(201);
      await createCodes(app, v, p.id, { count: 3, note: 'order <42> & @everyone' });

      const sm = (await slack.waitFor(() => true)).json;
      // https://api.slack.com/messaging/webhooks: `text` (fallback) and Block Kit `blocks`.
      expect(typeof sm.text).toBe('string');
      expect(sm.text).toContain('3 purchase codes created for Product wh-chat');
      expect(sm.text).toContain('order &lt;42&gt; &amp; @everyone');
      expect(sm.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
      const button = sm.blocks.flatMap((b: any) => b.elements ?? []).find((e: any) => e.type === 'button');
      expect(button.url).toMatch(new RegExp(`^${app.url}/products/${p.id}/codes/batches/[0-9a-f-]{36}$`));
      expect(slack.received[0]!.headers['webhook-signature']).toBeUndefined();

      const dm = (await discord.waitFor(() => true)).json;
      // https://discord.com/developers/docs/resources/webhook#execute-webhook: embeds, allowed_mentions.
      expect(dm.allowed_mentions).toEqual({ parse: [] });
      expect(dm.embeds).toHaveLength(1);
      expect(dm.embeds[0]).toMatchObject({ title: '3 purchase codes created for Product wh-chat', description: 'order <42> & @everyone', footer: { text: 'code.created' } });
      expect(dm.embeds[0].url).toMatch(new RegExp(`^${app.url}/products/${p.id}/codes/batches/`));
      expect(typeof dm.embeds[0].color).toBe('number');
      expect(new Date(dm.embeds[0].timestamp).toISOString()).toBe(dm.embeds[0].timestamp);
    } finally {
      await slack.stop();
      await discord.stop();
    }
  });

  test('a receiver failing twice gets the event on the third attempt, with the same webhook-id; a 4xx is final', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'wh-retry', versions: [] });
    const flaky = await WebhookReceiver.start();
    try {
      flaky.reply({ status: 503, body: 'down' }, { status: 429, body: 'slow down', headers: { 'retry-after': '1' } });
      const ep = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: flaky.url, kind: 'webhook', events: ['code.revoked'] });
      const [code] = await createCodes(app, v, p.id);
      expect((await api(app.url, v.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: true })).status).toBe(200);
      const third = await flaky.waitFor(() => flaky.received.length >= 3);
      expect(flaky.received).toHaveLength(3);
      const ids = new Set(flaky.received.map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(1);
      // Retry-After: 1 was honoured.
      expect(flaky.received[2]!.at - flaky.received[1]!.at).toBeGreaterThanOrEqual(900);
      expect(new Webhook(ep.json.secret).verify(third.body, third.headers as Record<string, string>)).toMatchObject({ type: 'code.revoked', data: { code: { code } } });
      const d = await until(async () => (await deliveriesOf(app, v, ep.json.id)).find((x) => x.status === 'delivered'));
      expect(d.attempts).toBe(3);
      expect(d.attemptLog.map((a: any) => [a.attempt, a.statusCode, a.response])).toEqual([
        [1, 503, 'down'],
        [2, 429, 'slow down'],
        [3, 200, 'ok'],
      ]);

      // 410 Gone: final at once, no retry.
      flaky.reply({ status: 410, body: 'gone' });
      const before = flaky.received.length;
      expect((await api(app.url, v.key, 'POST', `/api/v1/webhooks/${ep.json.id}/test`)).status).toBe(202);
      const failed = await until(async () => (await deliveriesOf(app, v, ep.json.id)).find((x) => x.event === 'webhook.test' && x.status === 'failed'));
      expect(failed).toMatchObject({ attempts: 1, statusCode: 410 });
      expect(flaky.received.length).toBe(before + 1);
      expect((await api(app.url, v.key, 'GET', `/api/v1/webhooks/${ep.json.id}`)).json.consecutiveFailures).toBe(1);

      // Redeliver: the same delivery (same webhook-id) again, now answered 200.
      expect((await api(app.url, v.key, 'POST', `/api/v1/webhooks/${ep.json.id}/deliveries/${failed.id}/redeliver`)).status).toBe(202);
      const again = await until(async () => (await deliveriesOf(app, v, ep.json.id)).find((x) => x.id === failed.id && x.status === 'delivered'));
      expect(again.attempts).toBe(2);
      expect(flaky.received.at(-1)!.headers['webhook-id']).toBe(`msg_${failed.id}`);
      expect((await api(app.url, v.key, 'GET', `/api/v1/webhooks/${ep.json.id}`)).json.consecutiveFailures).toBe(0);
    } finally {
      await flaky.stop();
    }
  });

  test('every licensing and release event reaches a subscriber, recorded with the change', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'wh-all', versions: ['1.0'] });
    const all = await WebhookReceiver.start();
    try {
      const ep = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: all.url, kind: 'webhook', events: [...EVENT_TYPES] });
      expect(ep.status).toBe(201);
      const soon = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
      const [code] = await createCodes(app, v, p.id, { maxSites: 1, maxDownloads: 1, expiresAt: soon });
      const lic = (action: string, domain: string) =>
        fetchJson(`${app.url}/api/v1/licenses/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: p.id, license: code, domain }) });
      expect((await lic('activate', 'https://shop-one.com')).status).toBe(200);
      const check = await updateCheck(app, p.id, { license: code!, installed_version: '0.9' }, { 'user-agent': 'WordPress/6.4; https://shop-one.com' });
      expect((await fetch(check.json.download_url, { redirect: 'manual' })).status).toBe(302);
      expect((await lic('deactivate', 'https://shop-one.com')).status).toBe(200);
      await app.runtime.services.notifications.recordExpiringCodes();
      await app.runtime.services.notifications.recordExpiringCodes(); // once only
      const refused = await release(app, v, p.id, pluginZip('wrong-slug', '2.0'));
      expect(refused.status).toBe(422);

      const types = ['code.created', 'site.activated', 'site_limit.reached', 'code.download_limit_reached', 'site.deactivated', 'code.expiring', 'release.refused'];
      for (const t of types) await all.waitFor((r) => r.json?.type === t);
      const byType = (t: string) => all.received.filter((r) => r.json?.type === t).map((r) => r.json.data);
      expect(byType('code.created')).toEqual([expect.objectContaining({ count: 1, product: { id: p.id, name: 'Product wh-all', slug: 'wh-all' }, codes: [expect.objectContaining({ code })] })]);
      expect(byType('site.activated')).toEqual([expect.objectContaining({ site: 'shop-one.com', code: expect.objectContaining({ code }) })]);
      expect(byType('site_limit.reached')).toEqual([expect.objectContaining({ site: 'shop-one.com', maxSites: 1 })]);
      expect(byType('code.download_limit_reached')).toEqual([expect.objectContaining({ maxDownloads: 1, code: expect.objectContaining({ code }) })]);
      expect(byType('site.deactivated')).toEqual([expect.objectContaining({ site: 'shop-one.com' })]);
      expect(byType('code.expiring')).toEqual([expect.objectContaining({ expiresOn: soon, code: expect.objectContaining({ code }) })]);
      expect(byType('release.refused')).toEqual([expect.objectContaining({ reasons: expect.arrayContaining([expect.any(String)]) })]);
    } finally {
      await all.stop();
    }
  });

  test('under concurrent downloads the limit events are recorded exactly once', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'wh-race', versions: ['1.0'] });
    const [byDownloads] = await createCodes(app, v, p.id, { maxDownloads: 3 });
    const [bySites] = await createCodes(app, v, p.id, { maxSites: 2 });
    const urlFor = async (code: string, site: string) => (await updateCheck(app, p.id, { license: code, installed_version: '0.9', domain: `https://${site}` })).json.download_url as string;
    const dl = await Promise.all(Array.from({ length: 12 }, () => urlFor(byDownloads!, 'one-shop.com')));
    const dlStatus = (await Promise.all(dl.map((u) => fetch(u, { redirect: 'manual' })))).map((r) => r.status);
    expect(dlStatus.filter((s) => s === 302)).toHaveLength(3);
    const sites = await Promise.all(Array.from({ length: 8 }, (_, i) => urlFor(bySites!, `race-${i}.com`)));
    const siteStatus = (await Promise.all(sites.map((u) => fetch(u, { redirect: 'manual' })))).map((r) => r.status);
    expect(siteStatus.filter((s) => s === 302)).toHaveLength(2);
    const of = async (type: string) => (await app.runtime.database.db.select().from(events).where(and(eq(events.productId, p.id), eq(events.type, type)))).map((e) => e.data as any);
    expect((await of('code.download_limit_reached')).map((d) => d.code.code)).toEqual([byDownloads]);
    expect((await of('site_limit.reached')).map((d) => d.code.code)).toEqual([bySites]);
    expect((await of('site.activated')).filter((d) => d.code.code === bySites)).toHaveLength(2);
    expect((await of('site.activated')).filter((d) => d.code.code === byDownloads)).toHaveLength(1);
  });

  test("a vendor never sees or touches another vendor's endpoints, deliveries or events", async () => {
    const alice = await newVendor(app, 'alice');
    const bob = await newVendor(app, 'bob');
    const pa = await productWithReleases(app, alice, { slug: 'wh-alice', versions: [] });
    const bobRx = await WebhookReceiver.start();
    try {
      const a = await api(app.url, alice.key, 'POST', '/api/v1/webhooks', { url: rx.url, kind: 'webhook', events: ['code.created'] });
      const b = await api(app.url, bob.key, 'POST', '/api/v1/webhooks', { url: bobRx.url, kind: 'webhook', events: ['code.created'] });
      // Bob cannot filter on Alice's product.
      expect((await api(app.url, bob.key, 'POST', '/api/v1/webhooks', { url: bobRx.url, kind: 'webhook', events: ['code.created'], productIds: [pa.id] })).status).toBe(422);
      for (const [method, path] of [
        ['GET', `/api/v1/webhooks/${a.json.id}`],
        ['GET', `/api/v1/webhooks/${a.json.id}/deliveries`],
        ['POST', `/api/v1/webhooks/${a.json.id}/test`],
        ['DELETE', `/api/v1/webhooks/${a.json.id}`],
        ['POST', `/api/v1/webhooks/${a.json.id}/enable`],
      ] as const) {
        expect([method, path, (await api(app.url, bob.key, method, path)).status]).toEqual([method, path, 404]);
      }
      expect((await api(app.url, bob.key, 'GET', '/api/v1/webhooks')).json.webhooks.map((w: any) => w.id)).toEqual([b.json.id]);
      await createCodes(app, alice, pa.id);
      await rx.waitFor((r) => r.json?.type === 'code.created' && r.json.data.product.id === pa.id);
      await app.runtime.services.notifications.tick();
      expect(bobRx.received).toHaveLength(0);
      expect(await deliveriesOf(app, bob, b.json.id)).toEqual([]);
      expect((await api(app.url, alice.key, 'DELETE', `/api/v1/webhooks/${a.json.id}`)).status).toBe(204);
      expect((await api(app.url, alice.key, 'GET', `/api/v1/webhooks/${a.json.id}`)).status).toBe(404);
    } finally {
      await bobRx.stop();
    }
  });

  test('bad endpoint input → 422 naming the field', async () => {
    const v = await newVendor(app);
    const bad: [unknown, string][] = [
      [{ url: 'ftp://x.com/h', kind: 'webhook', events: ['code.created'] }, 'url'],
      [{ url: 'not a url', kind: 'webhook', events: ['code.created'] }, 'url'],
      [{ url: 'https://u:p@x.com/h', kind: 'webhook', events: ['code.created'] }, 'url'],
      [{ url: 'https://x.com/h', kind: 'hipchat', events: ['code.created'] }, 'kind'],
      [{ url: 'https://x.com/h', kind: 'slack', events: [] }, 'events'],
      [{ url: 'https://x.com/h', kind: 'slack', events: ['code.eaten'] }, 'events'],
      [{ url: 'https://x.com/h', kind: 'slack', events: ['code.created'], productIds: ['nope'] }, 'productIds'],
    ];
    for (const [body, field] of bad) {
      const res = await api(app.url, v.key, 'POST', '/api/v1/webhooks', body);
      expect([JSON.stringify(body), res.status, Object.keys(res.json.error.fields ?? {})]).toEqual([JSON.stringify(body), 422, [field]]);
    }
    expect((await api(app.url, v.key, 'POST', '/api/v1/webhooks', '[1]')).status).toBe(400);
    expect((await api(app.url, v.key, 'GET', '/api/v1/webhooks')).json.webhooks).toEqual([]);
  });
});

describe.each(DB_KINDS)('notifications: the SSRF guard (%s)', (db) => {
  let app: TestApp;
  let rx: WebhookReceiver;
  const log: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        log.push(chunk.toString('utf8'));
        done();
      },
    });
    app = await startTestApp({ db, env: { WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_POLL_MS: '100', LOG_LEVEL: 'trace' }, logTo: sink });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await rx.stop();
  });

  test('a private address is refused unless WEBHOOK_ALLOW_PRIVATE=1: literal at creation, by name at connect time', async () => {
    const v = await newVendor(app);
    for (const url of [rx.ipUrl, 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/h', 'http://10.0.0.7/h', 'http://[::ffff:127.0.0.1]/h']) {
      const res = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url, kind: 'webhook', events: ['code.created'] });
      expect([url, res.status, res.json.error?.fields?.url]).toEqual([url, 422, expect.stringContaining('private')]);
    }
    // A name that resolves to loopback passes creation, and is refused when the connection is made.
    const ep = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: rx.url, kind: 'webhook', events: ['code.created'] });
    expect(ep.status).toBe(201);
    expect((await api(app.url, v.key, 'POST', `/api/v1/webhooks/${ep.json.id}/test`)).status).toBe(202);
    const d = await until(async () => (await deliveriesOf(app, v, ep.json.id)).find((x) => x.status === 'failed'));
    expect(d.attempts).toBe(1); // refused for good, not retried
    expect(d.error).toMatch(/refused to connect to (127\.0\.0\.1|::1)/);
    expect(rx.received).toHaveLength(0);

    // Neither the signing secret nor a Slack-style URL (a bearer secret) reaches the log.
    const slack = await api(app.url, v.key, 'POST', '/api/v1/webhooks', { url: `${rx.url}/services/T0001/B0001/SlackSecretToken42`, kind: 'slack', events: ['code.created'] });
    expect((await api(app.url, v.key, 'POST', `/api/v1/webhooks/${slack.json.id}/test`)).status).toBe(202);
    await until(async () => (await deliveriesOf(app, v, slack.json.id)).find((x) => x.status === 'failed'));
    const all = log.join('');
    expect(all).toContain('notifications: attempt failed');
    expect(all).not.toContain(ep.json.secret.slice(6));
    expect(all).not.toContain('SlackSecretToken42');
  });
});
