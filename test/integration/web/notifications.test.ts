import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { webhookEndpoints } from '../../../src/db/schema';
import { startTestApp, type TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { newVendor, productWithReleases } from '../../support/fixtures';
import { WebClient } from '../../support/web-client';
import { WebhookReceiver } from '../../support/webhook-receiver';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function form(web: WebClient, path: string, pairs: [string, string][], csrf = true) {
  const body = new URLSearchParams(csrf ? [['_csrf', web.csrf], ...pairs] : pairs);
  return web.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
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

describe.each(DB_KINDS)('the Notifications page (%s)', (db) => {
  let app: TestApp;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    app = await startTestApp({ db, env: { WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_POLL_MS: '100' } });
    rx = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await rx.stop();
  });

  test('add an endpoint (secret shown once), send a test, read the delivery log, redeliver; CSRF required; disabled notice', async () => {
    const v = await newVendor(app);
    const p = await productWithReleases(app, v, { slug: 'page-notify', versions: [] });
    const page = await v.web.get('/notifications');
    expect(page.status).toBe(200);
    expect(page.text).toContain('No endpoints yet.');

    // Without the CSRF token: refused, nothing made.
    expect((await form(v.web, '/notifications', [['kind', 'webhook'], ['url', rx.url], ['events', 'code.created']], false)).status).toBe(403);
    // Bad input: the form again with the message, the input kept.
    const bad = await form(v.web, '/notifications', [['kind', 'webhook'], ['url', 'ftp://nope'], ['events', 'code.created']]);
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="url-error"');
    expect(bad.text).toMatch(/value="code.created" checked/);

    const added = await form(v.web, '/notifications', [['kind', 'webhook'], ['url', rx.url], ['events', 'code.created'], ['events', 'release.published'], ['productIds', p.id]]);
    expect(added.status).toBe(201);
    const secret = /id="new-webhook-secret">([^<]+)</.exec(added.text)![1]!;
    expect(secret).toMatch(/^whsec_/);
    const list = await v.web.get('/notifications');
    expect(list.text).not.toContain(secret);
    expect(list.text).toContain('code.created, release.published');
    expect(list.text).toContain('Product page-notify');
    const id = new RegExp(`/notifications/(${UUID})"`).exec(list.text)![1]!;

    // Send test (PRG) → a signed webhook.test, then the log shows it.
    const sent = await v.web.post(`/notifications/${id}/test`);
    expect([sent.status, sent.location]).toEqual([303, `/notifications/${id}`]);
    const got = await rx.waitFor((r) => r.json?.type === 'webhook.test');
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' });
    const log = await until(async () => {
      const r = await v.web.get(`/notifications/${id}`);
      return r.text.includes('>delivered<') && r;
    });
    expect(log.text).toContain('<code>webhook.test</code>');
    expect(log.text).toMatch(/<td>200<\/td>/);

    // Redeliver: the same webhook-id again.
    const deliveryId = new RegExp(`/deliveries/(${UUID})/redeliver`).exec(log.text)![1]!;
    expect((await v.web.post(`/notifications/${id}/deliveries/${deliveryId}/redeliver`)).status).toBe(303);
    await rx.waitFor(() => rx.received.filter((r) => r.headers['webhook-id'] === `msg_${deliveryId}`).length === 2);

    // Another vendor: 404 on every page and action.
    const other = new WebClient(app.url);
    await other.signUp(`other-${Date.now()}@example.com`);
    await other.get('/notifications');
    expect((await other.get(`/notifications/${id}`)).status).toBe(404);
    expect((await other.post(`/notifications/${id}/test`)).status).toBe(404);
    expect((await other.post(`/notifications/${id}/delete`)).status).toBe(404);

    // The 20th final failure in a row disables the endpoint, with a notice and a way back.
    await app.runtime.database.db.update(webhookEndpoints).set({ consecutiveFailures: 19 }).where(eq(webhookEndpoints.id, id));
    rx.reply({ status: 404, body: 'no such hook' });
    await v.web.get(`/notifications/${id}`);
    await v.web.post(`/notifications/${id}/test`);
    const notice = await until(async () => {
      const r = await v.web.get('/notifications');
      return r.text.includes('id="disabled-notice"') && r;
    });
    expect(notice.text).toContain('disabled after 20 deliveries in a row failed');
    const detail = await v.web.get(`/notifications/${id}`);
    expect(detail.text).toContain('Disabled after 20 deliveries in a row failed; the last: HTTP 404');
    expect((await v.web.post(`/notifications/${id}/enable`)).status).toBe(303);
    expect((await v.web.get('/notifications')).text).not.toContain('id="disabled-notice"');

    expect((await v.web.post(`/notifications/${id}/delete`)).status).toBe(303);
    expect((await v.web.get('/notifications')).text).toContain('No endpoints yet.');
  });
});
