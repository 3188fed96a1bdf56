import { Webhook } from 'standardwebhooks';
import { SecretBox } from '../../../src/lib/secret-box';
import { isPublicAddress } from '../../../src/services/notifications/address-guard';
import { discordBody, requestFor, slackBody } from '../../../src/services/notifications/payloads';
import { isRetryableStatus, retryDelayMs } from '../../../src/services/notifications/retry-policy';
import { parseRetryAfter, sendWebhook } from '../../../src/services/notifications/webhook-sender';

test('only public unicast addresses pass the SSRF guard', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
    expect([a, isPublicAddress(a)]).toEqual([a, false]);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect([a, isPublicAddress(a)]).toEqual([a, true]);
});

test('retries: network-ish statuses retry, other 4xx are final; backoff doubles with jitter and honours Retry-After', () => {
  expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
  expect([400, 401, 403, 404, 410, 422, 301, 302].some(isRetryableStatus)).toBe(false);
  expect(retryDelayMs(1, 1000, null, 0)).toBe(500);
  expect(retryDelayMs(1, 1000, null, 0.999)).toBeLessThanOrEqual(1000);
  expect(retryDelayMs(4, 1000, null, 0)).toBe(4000);
  expect(retryDelayMs(40, 30_000, null, 0.999)).toBeLessThanOrEqual(4 * 3600_000);
  expect(retryDelayMs(1, 1000, 120_000, 0.5)).toBe(120_000);
  expect(parseRetryAfter('120')).toBe(120_000);
  expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
  expect(parseRetryAfter('soon')).toBeNull();
  expect(parseRetryAfter(undefined)).toBeNull();
});

const payload = { type: 'release.published', timestamp: '2026-12-01T10:00:00.000Z', data: { product: { id: 'p1', name: 'Acme <SEO>', slug: 'acme' }, version: '2.1', live: true } };

test('a generic webhook is signed per Standard Webhooks with the delivery id as webhook-id', () => {
  const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
  const { body, headers } = requestFor('webhook', secret, 'd-1', payload, 'https://wharf.test', new Date());
  expect(headers['webhook-id']).toBe('msg_d-1');
  expect(JSON.parse(body)).toEqual(payload);
  expect(new Webhook(secret).verify(body, headers)).toEqual(payload);
  // Same delivery, later attempt: same id, fresh timestamp and signature.
  const later = requestFor('webhook', secret, 'd-1', payload, 'https://wharf.test', new Date(Date.now() + 1000));
  expect(later.headers['webhook-id']).toBe('msg_d-1');
});

test('Slack escapes its control characters; Discord never mentions anyone', () => {
  const s = slackBody(payload, 'https://wharf.test');
  expect(s.text).toContain('Acme &lt;SEO&gt; 2.1 was published');
  expect(s.text).toContain('<https://wharf.test/products/p1|Open in Wharf>');
  const d = discordBody(payload, 'https://wharf.test');
  expect(d.allowed_mentions.parse).toEqual([]);
  expect(d.embeds[0]).toMatchObject({ title: 'Acme <SEO> 2.1 was published', url: 'https://wharf.test/products/p1', timestamp: payload.timestamp });
  expect(discordBody({ ...payload, data: { product: { name: 'x'.repeat(500) } } }, 'https://w').embeds[0]!.title.length).toBe(256);
});

test('the sender refuses http in production, other schemes, and private literals before connecting', async () => {
  const opts = { timeoutMs: 1000, allowPrivate: false, httpsOnly: true };
  const http = await sendWebhook('http://93.184.216.34/h', '{}', {}, opts);
  expect(http).toMatchObject({ statusCode: null, errorFinal: true, error: expect.stringContaining('https only in production') });
  expect(await sendWebhook('file:///etc/passwd', '{}', {}, { ...opts, httpsOnly: false })).toMatchObject({ errorFinal: true });
  expect(await sendWebhook('https://169.254.169.254/latest/meta-data/', '{}', {}, opts)).toMatchObject({ errorFinal: true, error: expect.stringContaining('refused to connect to 169.254.169.254') });
  expect(await sendWebhook('https://[::ffff:7f00:1]/h', '{}', {}, opts)).toMatchObject({ errorFinal: true, error: expect.stringContaining('refused to connect') });
});

test('sealed values open with the same SECRET_KEY only, and are never the same twice', () => {
  const a = new SecretBox('k'.repeat(40), 'webhook endpoints');
  const sealed = a.seal('https://hooks.slack.com/services/T/B/x');
  expect(sealed).not.toContain('hooks.slack.com');
  expect(a.seal('https://hooks.slack.com/services/T/B/x')).not.toBe(sealed);
  expect(a.open(sealed)).toBe('https://hooks.slack.com/services/T/B/x');
  expect(() => new SecretBox('j'.repeat(40), 'webhook endpoints').open(sealed)).toThrow();
  expect(() => new SecretBox('k'.repeat(40), 'other purpose').open(sealed)).toThrow();
});
