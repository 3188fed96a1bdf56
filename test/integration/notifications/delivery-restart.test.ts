import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { api } from '../../support/api-client';
import type { TestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { createCodes, newVendor } from '../../support/fixtures';
import { seedPglite } from '../../support/pglite-template';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { buildOnce, exited, listeningUrl, startServer, stopServer, type ServerProcess } from '../../support/server-process';
import { WebhookReceiver } from '../../support/webhook-receiver';

// At least once across a crash: the event is in the outbox with the change; a server killed while
// sending leaves its lease to lapse, and the restarted server sends it again with the same webhook-id.
describe.each(DB_KINDS)('notification delivery survives a killed app server (%s)', (db) => {
  let dataDir: string;
  let testDb: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let rx: WebhookReceiver;
  let env: Record<string, string>;

  beforeAll(async () => {
    buildOnce();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-notify-'));
    // The fresh-directory start is covered by the embedded-database suite; here a migrated copy saves seconds.
    if (db === 'postgres') testDb = await createTestDatabase();
    else await seedPglite(path.join(dataDir, 'pglite'));
    rx = await WebhookReceiver.start();
    env = {
      PORT: '0',
      EMBEDDED_S3_PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_TIMEOUT_MS: '1000', // the lease is 3 × this
      WEBHOOK_POLL_MS: '100',
      ...(testDb ? { DATABASE_URL: testDb.url } : {}),
    };
  });
  afterAll(async () => {
    await stopServer(server);
    await rx.stop();
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('killed (kill -9) after the outbox write and before a delivery succeeded → delivered after restart, same webhook-id', async () => {
    server = startServer(env);
    let base = await listeningUrl(server);
    const vendor = await newVendor({ url: base } as TestApp);
    const product = await api(base, vendor.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'crash-notify', name: 'Crash Notify' });
    expect(product.status).toBe(201);
    const ep = await api(base, vendor.key, 'POST', '/api/v1/webhooks', { url: rx.url, kind: 'webhook', events: ['code.created'] });
    expect(ep.status).toBe(201);

    // The first attempt reaches the receiver, which never answers; the server dies meanwhile.
    rx.reply('hang');
    const killedMidSend = new Promise<void>((resolve) => {
      rx.onRequest = () => {
        rx.onRequest = undefined;
        server!.child.kill('SIGKILL');
        resolve();
      };
    });
    const [code] = await createCodes({ url: base } as TestApp, vendor, product.json.id, { note: 'before the crash' });
    await killedMidSend;
    await exited(server.child);
    expect(rx.received).toHaveLength(1);

    server = startServer(env);
    base = await listeningUrl(server);
    const second = await rx.waitFor(() => rx.received.length >= 2, 60_000);
    expect(second.headers['webhook-id']).toBe(rx.received[0]!.headers['webhook-id']);
    const verified = new Webhook(ep.json.secret).verify(second.body, second.headers as Record<string, string>) as any;
    expect(verified).toMatchObject({ type: 'code.created', data: { note: 'before the crash', codes: [expect.objectContaining({ code })] } });

    const log = await api(base, vendor.key, 'GET', `/api/v1/webhooks/${ep.json.id}/deliveries`);
    const until = Date.now() + 20_000;
    let d = log.json.deliveries[0];
    while (d.status !== 'delivered' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      d = (await api(base, vendor.key, 'GET', `/api/v1/webhooks/${ep.json.id}/deliveries`)).json.deliveries[0];
    }
    // The killed attempt counts: it may have reached the receiver.
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, statusCode: 200 });
    expect(rx.received).toHaveLength(2);
  }, 300_000);

  test('killed (kill -9) after the outbox write, before the worker looked at it → delivered once after restart', async () => {
    await stopServer(server);
    // A worker that looks only at start and then once a minute: the event waits in the outbox.
    server = startServer({ ...env, WEBHOOK_POLL_MS: '60000' });
    let base = await listeningUrl(server);
    const vendor = await newVendor({ url: base } as TestApp);
    const product = await api(base, vendor.key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'outbox-notify', name: 'Outbox Notify' });
    const ep = await api(base, vendor.key, 'POST', '/api/v1/webhooks', { url: rx.url, kind: 'webhook', events: ['code.revoked'] });
    const [code] = await createCodes({ url: base } as TestApp, vendor, product.json.id);
    const before = rx.received.length;
    expect((await api(base, vendor.key, 'PATCH', `/api/v1/purchase-codes/${code}`, { revoked: true })).status).toBe(200);
    const killed = exited(server.child);
    server.child.kill('SIGKILL');
    await killed;
    expect(rx.received.length).toBe(before);

    server = startServer(env);
    base = await listeningUrl(server);
    const got = await rx.waitFor((r) => r.json?.type === 'code.revoked', 60_000);
    expect(new Webhook(ep.json.secret).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ data: { code: { code } } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.received.filter((r) => r.json?.type === 'code.revoked')).toHaveLength(1);
  }, 300_000);
});
