import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { REPO, assertBinaries } from '../../support/topology';

/** The repo's nginx.conf, as is, in front of tiny node:http upstreams. */

const ASSET = 'app.3f2a9c1b.css';
const ASSET_BODY = `body { color: #123456; }\n${'.x { margin: 0 }\n'.repeat(40)}`;

interface Upstream {
  addr: string;
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

// What the app sends on its pages (helmet): /page/* as a dashboard page, /details/* framable.
const APP_CSP = "default-src 'self'; script-src 'self'; frame-ancestors 'none'";
const DETAILS_CSP = "default-src 'self'; script-src 'self'";
function appHeaders(url: string): Record<string, string> {
  if (url.startsWith('/page/')) return { 'content-security-policy': APP_CSP, 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin', 'strict-transport-security': 'max-age=60' };
  if (url.startsWith('/details/')) return { 'content-security-policy': DETAILS_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' };
  return {}; // like the update-check fast path: JSON without them
}

// mode 'ok' answers JSON; 'dying' reads the request, then drops the connection (a crash mid-request).
async function startUpstream(mode: 'ok' | 'dying'): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (mode === 'dying') return void req.socket.destroy();
      for (const [k, v] of Object.entries(appHeaders(req.url ?? ''))) res.setHeader(k, v);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, items: Array.from({ length: 50 }, (_, i) => ({ i, name: `plugin-${i}` })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    addr: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// The upstream block comes from the same generator the deploy tooling uses.
function renderUpstream(addrs: string[]): string {
  return execFileSync('bash', ['-c', 'source deploy/local/lib.sh && render_upstream "" "$@"', '_', ...addrs], { cwd: REPO }).toString();
}

interface Nginx {
  url: string;
  /** https:// on another port of the same server, when started with tls. */
  tlsUrl: string;
  prefix: string;
  stop(): Promise<void>;
}

function writePrefix(port: number, upstreams: string[], tlsPort?: number): string {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-nginx-'));
  fs.chmodSync(prefix, 0o755); // nginx workers run as nobody when the tests run as root
  fs.mkdirSync(path.join(prefix, 'conf'));
  fs.mkdirSync(path.join(prefix, 'logs'));
  fs.mkdirSync(path.join(prefix, 'public/assets'), { recursive: true });
  fs.writeFileSync(path.join(prefix, 'public/assets', ASSET), ASSET_BODY);
  fs.symlinkSync(path.join(REPO, 'nginx.conf'), path.join(prefix, 'conf/nginx.conf'));
  let tls = '';
  if (tlsPort) {
    // A throwaway self-signed certificate: only the scheme matters to these tests.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', `${prefix}/conf/key.pem`, '-out', `${prefix}/conf/cert.pem`], { stdio: 'ignore' });
    tls = `listen 127.0.0.1:${tlsPort} ssl;\nssl_certificate ${prefix}/conf/cert.pem;\nssl_certificate_key ${prefix}/conf/key.pem;\n`;
  }
  fs.writeFileSync(path.join(prefix, 'conf/site.conf'), `listen 127.0.0.1:${port};\n${tls}root ${prefix}/public;\n`);
  fs.writeFileSync(path.join(prefix, 'conf/upstream.conf'), renderUpstream(upstreams));
  return prefix;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));

async function startNginx(upstreams: string[], opts: { tls?: boolean } = {}): Promise<Nginx> {
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const prefix = writePrefix(port, upstreams, tlsPort);
  const child = spawn('nginx', ['-p', `${prefix}/`, '-c', 'conf/nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await request(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    tlsUrl: tlsPort ? `https://127.0.0.1:${tlsPort}` : '',
    prefix,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
      running.delete(child);
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every header line as sent (name lower-cased → values), to see duplicates. */
  lines: Map<string, string[]>;
  body: Buffer;
}

// node:http rather than fetch: we need the raw (still gzipped) bytes and exact request headers.
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      const lines = new Map<string, string[]>();
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const name = res.rawHeaders[i]!.toLowerCase();
        lines.set(name, [...(lines.get(name) ?? []), res.rawHeaders[i + 1]!]);
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, lines, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(() => assertBinaries(['nginx']));

test('nginx -t accepts the repo nginx.conf with generated includes', async () => {
  const prefix = writePrefix(await freePort(), ['127.0.0.1:1', '127.0.0.1:2']);
  try {
    const out = execFileSync('nginx', ['-t', '-p', `${prefix}/`, '-c', 'conf/nginx.conf'], { stdio: 'pipe', encoding: 'utf8' });
    expect(out).toBe('');
  } catch (err) {
    throw new Error(`nginx -t failed: ${(err as { stderr?: string }).stderr ?? err}`);
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});

describe('serving', () => {
  let upstream: Upstream;
  let nginx: Nginx;
  beforeAll(async () => {
    upstream = await startUpstream('ok');
    nginx = await startNginx([upstream.addr]);
  });
  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
  });

  test('serves fingerprinted assets itself, immutable for a year, gzipped', async () => {
    const res = await request(`${nginx.url}/assets/${ASSET}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-type']).toBe('text/css');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(res.body).toString()).toBe(ASSET_BODY);
    expect(upstream.seen.some((r) => r.url.startsWith('/assets/'))).toBe(false);

    const missing = await request(`${nginx.url}/assets/nope.0000.css`);
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined(); // a 404 must not be cached for a year
  });

  test('answers its own /healthz', async () => {
    const res = await request(`${nginx.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok\n');
  });

  test('gzips JSON from the app and forwards client, scheme, host and a request id', async () => {
    const res = await request(`${nginx.url}/api/v1/updates/abc?x=1`, { headers: { 'accept-encoding': 'gzip', 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/Accept-Encoding/);
    expect(JSON.parse(zlib.gunzipSync(res.body).toString())).toMatchObject({ ok: true });
    const seen = upstream.seen.at(-1);
    expect(seen?.url).toBe('/api/v1/updates/abc?x=1');
    expect(seen?.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1'); // TRUST_PROXY=1 takes the last hop
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.headers['x-forwarded-host']).toBe(nginx.url.replace('http://', ''));
    expect(seen?.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['x-request-id']).toBe(seen?.headers['x-request-id']);

    const withId = await request(`${nginx.url}/login`, { headers: { 'x-request-id': 'client-chosen-id' } });
    expect(withId.headers['x-request-id']).toBe('client-chosen-id');
    expect(upstream.seen.at(-1)?.headers['x-request-id']).toBe('client-chosen-id');
  });

  test('rejects bodies over 1 MB before they reach the app', async () => {
    const before = upstream.seen.length;
    const res = await request(`${nginx.url}/login`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1), headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(413);
    expect(upstream.seen.length).toBe(before);
  });

  test("sets the app's security headers on everything it answers itself", async () => {
    const own = [
      await request(`${nginx.url}/healthz`),
      await request(`${nginx.url}/assets/${ASSET}`),
      await request(`${nginx.url}/assets/nope.0000.css`),
      await request(`${nginx.url}/login`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) }),
    ];
    expect(own.map((r) => r.status)).toEqual([200, 200, 404, 413]);
    for (const res of own) expectOwnHeaders(res);
  });

  test("keeps the app's own headers, once, and only fills in what an app answer lacks", async () => {
    const page = await request(`${nginx.url}/page/products`);
    expect(page.lines.get('content-security-policy')).toEqual([APP_CSP]);
    expect(page.lines.get('x-frame-options')).toEqual(['DENY']);
    expect(page.lines.get('x-content-type-options')).toEqual(['nosniff']);
    expect(page.lines.get('referrer-policy')).toEqual(['same-origin']);
    expect(page.lines.get('strict-transport-security')).toEqual(['max-age=60']);

    // WordPress frames the details pages: nginx must not add X-Frame-Options or its own CSP there.
    const details = await request(`${nginx.url}/details/abc`);
    expect(details.lines.get('content-security-policy')).toEqual([DETAILS_CSP]);
    expect(details.lines.has('x-frame-options')).toBe(false);
    expect(details.lines.get('x-content-type-options')).toEqual(['nosniff']);

    // An answer without them (the update-check fast path's JSON) gets nginx's.
    expectOwnHeaders(await request(`${nginx.url}/api/v1/updates/abc`));
  });
});

/** nginx's own set: nothing may run or frame, once each, and no HSTS over plain HTTP. */
function expectOwnHeaders(res: Pick<Response, 'lines'>, hsts = false) {
  expect(res.lines.get('content-security-policy')).toEqual(["default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"]);
  expect(res.lines.get('x-frame-options')).toEqual(['DENY']);
  expect(res.lines.get('x-content-type-options')).toEqual(['nosniff']);
  expect(res.lines.get('referrer-policy')).toEqual(['same-origin']);
  expect(res.lines.get('strict-transport-security')).toEqual(hsts ? ['max-age=31536000; includeSubDomains'] : undefined);
}

describe('over TLS', () => {
  let upstream: Upstream;
  let nginx: Nginx;
  beforeAll(async () => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      throw new Error('the TLS tests need the openssl binary (Debian: openssl) to make a throwaway certificate');
    }
    upstream = await startUpstream('ok');
    nginx = await startNginx([upstream.addr], { tls: true });
  });
  afterAll(async () => {
    await nginx?.stop();
    await upstream?.close();
  });

  test('adds HSTS to its own answers and to app answers without it, never twice', async () => {
    expectOwnHeaders(await request(`${nginx.tlsUrl}/healthz`), true);
    expectOwnHeaders(await request(`${nginx.tlsUrl}/assets/${ASSET}`), true);
    expectOwnHeaders(await request(`${nginx.tlsUrl}/api/v1/updates/abc`), true);
    expect((await request(`${nginx.tlsUrl}/page/products`)).lines.get('strict-transport-security')).toEqual(['max-age=60']);
    expect((await request(`${nginx.tlsUrl}/details/abc`)).lines.get('strict-transport-security')).toEqual(['max-age=31536000; includeSubDomains']);
    expect(upstream.seen.at(-1)?.headers['x-forwarded-proto']).toBe('https');
    expect((await request(`${nginx.url}/healthz`)).lines.has('strict-transport-security')).toBe(false);
  });
});

describe('failover between app servers', () => {
  const upstreams: Upstream[] = [];
  afterAll(async () => Promise.all(upstreams.map((u) => u.close())));

  test('a GET that hits a server dying mid-request is retried on the next one', async () => {
    const dying = await startUpstream('dying');
    const healthy = await startUpstream('ok');
    upstreams.push(dying, healthy);
    const nginx = await startNginx([dying.addr, healthy.addr]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await request(`${nginx.url}/api/v1/updates/u${i}`)).status);
      expect(statuses).toEqual([200, 200, 200, 200]);
      expect(dying.seen.length).toBeGreaterThanOrEqual(1); // round robin sent one there; nginx retried it
      expect(healthy.seen.length).toBe(4);
    } finally {
      await nginx.stop();
    }
  });

  test('a POST that reached a dying server is NOT resent (it could run twice); the client gets 503', async () => {
    const dying = await startUpstream('dying');
    const healthy = await startUpstream('ok');
    upstreams.push(dying, healthy);
    const nginx = await startNginx([dying.addr, healthy.addr]);
    try {
      const results: { id: string; status: number; body: string; lines: Response['lines'] }[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await request(`${nginx.url}/api/v1/things`, { method: 'POST', body: `id=${i}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        results.push({ id: `id=${i}`, status: res.status, body: res.body.toString(), lines: res.lines });
      }
      const failed = results.filter((r) => r.status !== 200);
      expect(failed.length).toBe(dying.seen.length);
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const f of failed) {
        expect(f.status).toBe(503);
        expect(JSON.parse(f.body)).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
        expect(f.lines.get('retry-after')).toEqual(['5']);
        expectOwnHeaders(f);
        expect(healthy.seen.some((r) => r.body === f.id)).toBe(false); // never resent
      }
      expect(dying.seen.length + healthy.seen.length).toBe(4); // each POST reached exactly one server
    } finally {
      await nginx.stop();
    }
  });

  test('a server that refuses connections costs nothing: GET and POST both go to the next one', async () => {
    const healthy = await startUpstream('ok');
    upstreams.push(healthy);
    const nginx = await startNginx([`127.0.0.1:${await freePort()}`, healthy.addr]);
    try {
      for (let i = 0; i < 3; i++) {
        expect((await request(`${nginx.url}/api/v1/updates/u${i}`)).status).toBe(200);
        // Nothing was sent to the dead server, so retrying the POST cannot run it twice.
        expect((await request(`${nginx.url}/api/v1/things`, { method: 'POST', body: `n=${i}` })).status).toBe(200);
      }
      expect(healthy.seen.length).toBe(6);
    } finally {
      await nginx.stop();
    }
  });
});
