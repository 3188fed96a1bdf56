import { Writable } from 'node:stream';
import { startTestApp, type TestApp } from '../../support/app';

jest.setTimeout(120_000);

/** Browser error reports: accepted without a cookie or CSRF token, bounded, rate limited, logged at warn with the build. */
describe('POST /api/v1/client-errors', () => {
  let app: TestApp;
  const lines: Record<string, any>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    app = await startTestApp({ logTo: sink, env: { LOG_LEVEL: 'warn', TRUST_PROXY: '1' } });
  });
  afterAll(() => app.stop());

  const send = (body: string, headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' }, ip = '203.0.113.1') =>
    fetch(`${app.url}/api/v1/client-errors`, { method: 'POST', body, headers: { ...headers, 'x-forwarded-for': ip } });

  it('logs a report at warn with the asset fingerprint and the page path only, and answers 204 with no cookie', async () => {
    const res = await send(JSON.stringify({ message: 'TypeError: x is undefined', source: `${app.url}/assets/app.0123456789ab.js`, line: 12, column: 3, stack: 'TypeError: x\n    at f (/assets/app.0123456789ab.js:12:3)', page: '/products/abc?token=secret#frag', asset: '/assets/app.0123456789ab.js' }));
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toBeNull();
    const line = lines.find((l) => l.clientError?.message === 'TypeError: x is undefined');
    expect(line).toMatchObject({ level: 40, build: '0123456789ab', clientError: { source: '/assets/app.0123456789ab.js', line: 12, column: 3, page: '/products/abc', asset: { name: 'app.js', fingerprint: '0123456789ab' } } });
    expect(JSON.stringify(line)).not.toContain('secret');
  });

  it('reads JSON whatever the content type sendBeacon used, and refuses what is not a report', async () => {
    expect((await send(JSON.stringify({ message: 'as json' }), { 'content-type': 'application/json' }, '203.0.113.2')).status).toBe(204);
    expect(lines.some((l) => l.clientError?.message === 'as json')).toBe(true);
    expect((await send('not json', undefined, '203.0.113.2')).status).toBe(422);
    expect((await send(JSON.stringify({ line: 1 }), undefined, '203.0.113.2')).status).toBe(422);
  });

  it('caps the body at 8 KB', async () => {
    const res = await send(JSON.stringify({ message: 'x'.repeat(9000) }), undefined, '203.0.113.3');
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
  });

  it('rate limits per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await send(JSON.stringify({ message: `flood ${i}` }), undefined, '203.0.113.4')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(204));
    expect(statuses.slice(10)).toEqual(Array(5).fill(429));
    // Another address is not affected.
    expect((await send(JSON.stringify({ message: 'other' }), undefined, '203.0.113.5')).status).toBe(204);
  });
});
