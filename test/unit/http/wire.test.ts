import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError, DatabaseUnavailableError, NotFoundError } from '../../../src/lib/errors';
import { clientIp, errorBody, header, normalizeError } from '../../../src/http/wire';
import { logPath } from '../../../src/http/wire-log';

/** header() must read a request exactly as Node's req.headers does, duplicates and case included. */
test('header() agrees with req.headers on repeated, mixed-case and missing headers', async () => {
  const seen: Record<string, [string | undefined, string | undefined]> = {};
  const server = http.createServer((req, res) => {
    for (const [name, all] of [['user-agent', false], ['content-type', false], ['x-forwarded-for', true], ['x-missing', false]] as const) {
      seen[name] = [header(req, name, all), req.headers[name] as string | undefined];
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        'GET / HTTP/1.1\r\nHost: x\r\nUSER-AGENT: WordPress/6.5; https://a.example\r\nUser-Agent: second\r\n' +
          'Content-Type: application/json\r\nX-Forwarded-For: 203.0.113.9\r\nx-forwarded-for: 10.0.0.1, 10.0.0.2\r\nConnection: close\r\n\r\n',
      ),
    );
    socket.on('data', () => undefined);
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  server.close();
  for (const [name, [ours, node]] of Object.entries(seen)) expect([name, ours]).toEqual([name, node]);
  expect(seen['x-forwarded-for']![0]).toBe('203.0.113.9, 10.0.0.1, 10.0.0.2');
});


describe('normalizeError', () => {
  test('typed errors pass, also when drizzle wrapped them; an unreachable database is a 500 with Retry-After; bugs are a plain 500', () => {
    const typed = new NotFoundError('gone');
    expect(normalizeError(typed)).toBe(typed);
    const deadline = new DatabaseUnavailableError();
    const wrapped = Object.assign(new Error('Failed query: select 1\nparams: secret'), { query: 'select 1', params: ['secret'], cause: deadline });
    expect(normalizeError(wrapped)).toBe(deadline);
    for (const code of ['ECONNREFUSED', '57P01', '25006', 'CONNECTION_CLOSED']) {
      const e = normalizeError(Object.assign(new Error('x'), { cause: Object.assign(new Error('driver'), { code }) }));
      expect([code, e.status, e.code, e.headers]).toEqual([code, 500, 'database_unavailable', { 'Retry-After': '5' }]);
    }
    const bug = normalizeError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect([bug.status, bug.code, bug.headers]).toEqual([500, 'internal_error', undefined]);
    expect(normalizeError(Object.assign(new Error('syntax'), { code: '42601' })).code).toBe('internal_error');
    expect(normalizeError(Object.assign(new Error('big'), { type: 'entity.too.large' })).status).toBe(413);
    expect(normalizeError(Object.assign(new Error('bad'), { type: 'entity.parse.failed' })).code).toBe('invalid_json');
    expect(normalizeError(Object.assign(new Error('Bad header'), { status: 400, expose: true }))).toMatchObject({ status: 400, code: 'bad_request' });
    expect(normalizeError('a string').code).toBe('internal_error');
  });

  test('the error body', () => {
    expect(JSON.parse(errorBody(new AppError(422, 'validation_failed', 'Bad.', { name: 'Required.' })))).toEqual({ error: { code: 'validation_failed', message: 'Bad.', fields: { name: 'Required.' } } });
  });
});

test("clientIp agrees with Express's req.ip for every trust setting and forwarding chain", async () => {
  const chains = [undefined, '203.0.113.9', '203.0.113.9, 10.0.0.1', ' 198.51.100.7 ,203.0.113.9, 10.0.0.2 ', 'garbage, 10.0.0.3'];
  for (const trust of [0, 1, 2, 3]) {
    const app = express();
    app.set('trust proxy', trust);
    const seen: [string | undefined, string][] = [];
    app.get('/', (req, res) => {
      seen.push([req.ip, clientIp(req, trust)]);
      res.end();
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (const xff of chains) await fetch(`http://127.0.0.1:${port}/`, { headers: xff ? { 'x-forwarded-for': xff } : {} });
    server.close();
    for (const [express_, ours] of seen) expect([trust, ours]).toEqual([trust, express_]);
  }
});

test('logPath keeps paths, drops queries, and replaces codes and tokens wherever they appear', () => {
  const code = 'ABCD2EFGH3JKMN4PQRS5TVWX6YZ01234';
  expect(logPath(`/api/v1/purchase-codes/${code}?x=1`)).toBe('/api/v1/purchase-codes/[code]');
  expect(logPath('/api/v1/purchase-codes/abcd-2efg-h3jk-mn4p-qrs5-tvwx-6yz0-1234')).toBe('/api/v1/purchase-codes/[code]');
  expect(logPath('/api/v1/purchase-codes/not-even-a-code')).toBe('/api/v1/purchase-codes/[code]');
  expect(logPath('/api/v1/download/eyJwYXlsb2Fk.c2lnbmF0dXJl/acme.zip')).toBe('/api/v1/download/[token]/acme.zip');
  expect(logPath(`/products/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f10/codes/${code.toLowerCase()}`)).toBe('/products/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f10/codes/[code]');
  expect(logPath(`/x/${encodeURIComponent('ABCD-2EFG-H3JK-MN4P-QRS5-TVWX-6YZ0-1234')}`)).toBe('/x/[code]');
  expect(logPath('/products/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f10/codes/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f11')).toBe('/products/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f10/codes/3f2a6a1e-0d7b-4c1e-9e8a-2b7c1d0e9f11');
  expect(logPath('/login?next=/products&code=secret')).toBe('/login');
});
