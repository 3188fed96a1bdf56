import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { lockOwner } from '../../../src/db/data-dir-lock';
import { seedPglite } from '../../support/pglite-template';
import { buildOnce, exited, listeningUrl, ROOT, startServer } from '../../support/server-process';

beforeAll(buildOnce);

test('a bad environment value stops the server with a clear message and exit code 1', async () => {
  const { child, output } = startServer({ PORT: 'abc', S3_ENDPOINT: 'not a url' });
  expect(await exited(child)).toBe(1);
  expect(output()).toMatch(/Invalid configuration/);
  expect(output()).toMatch(/PORT/);
  expect(output()).toMatch(/S3_ENDPOINT/);
});

test('on embedded defaults it serves, is ready, keeps data across a restart, and drains on SIGTERM', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-srv-'));
  const env = { PORT: '0', EMBEDDED_S3_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  let server = startServer(env);
  try {
    let base = await listeningUrl(server);
    const port = Number(new URL(base).port);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok', storage: 'ok' } });

    // Fingerprinted assets: the page names the current hash; the file is cached for a year.
    const page = await (await fetch(`${base}/login`)).text();
    const css = /href="(\/assets\/app\.[0-9a-f]{12}\.css)"/.exec(page)![1]!;
    const asset = await fetch(`${base}${css}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const signup = await fetch(`${base}/signup`);
    const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!;
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(await signup.text())![1]!;
    const created = await fetch(`${base}/signup`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email: 'persist@example.com', password: 'correct horse battery staple' }),
    });
    expect(created.status).toBe(302);
    const session = created.headers.getSetCookie().find((c) => c.startsWith('wharf_session='))!.split(';')[0]!;

    // An in-flight request (body still arriving) is finished after SIGTERM, then the server exits 0.
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const body = 'email=x%40example.com&password=y';
    sock.write(`POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((r) => setTimeout(r, 200));
    const exit = exited(server.child);
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    let reply = '';
    sock.on('data', (d) => (reply += d));
    sock.write(body.slice(10));
    await new Promise((r) => sock.once('close', r));
    expect(reply).toMatch(/^HTTP\/1\.1 403/); // answered (no CSRF token), not dropped
    expect(await exit).toBe(0);
    expect(server.output()).toMatch(/draining/);
    // Not a terminal: JSON lines only, no plain startup line.
    for (const line of server.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    server = startServer(env);
    base = await listeningUrl(server);
    const after = await fetch(`${base}/products`, { headers: { cookie: session } });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('persist@example.com');
  } finally {
    server.child.kill('SIGTERM');
    await exited(server.child).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 240_000);

test('a failing start prints the real reason, not [object Object], and exits 1', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-srv-'));
  await seedPglite(path.join(dataDir, 'pglite'));
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const s3 = (taken.address() as net.AddressInfo).port;
  try {
    const server = startServer({ PORT: '0', EMBEDDED_S3_PORT: String(s3), DATA_DIR: dataDir });
    expect(await exited(server.child)).toBe(1);
    expect(server.stderr()).toMatch(new RegExp(`^wharf failed to start: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${s3}\n {2}at `));
    expect(server.output()).not.toContain('[object Object]');
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false); // released on the way out
  } finally {
    taken.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);

test('on a terminal, outside production, one plain line comes first: where it listens, where to sign up, where the data is', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-tty-'));
  await seedPglite(path.join(dataDir, 'pglite'));
  // util-linux's `script` runs the server on a pseudo-terminal (Debian's bsdutils, always installed).
  const command = `exec ${process.execPath} dist/src/server.js`;
  const tty = (env: Record<string, string>) => {
    const server = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { PATH: process.env.PATH!, PORT: '0', EMBEDDED_S3_PORT: '0', DATA_DIR: dataDir, ...env } });
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('wharf: listening')) server.kill('SIGTERM');
    });
    server.on('error', (err) => (out += `could not run script(1): ${err.message}`));
    return new Promise<string>((resolve) => server.on('close', () => resolve(out.replace(/\r/g, ''))));
  };
  try {
    const lines = (await tty({})).trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Wharf is listening on http://127\\.0\\.0\\.1:\\d+ · first account: http://localhost:0/signup · data: ${dataDir} \\(embedded PostgreSQL and S3\\)$`));
    for (const line of lines.slice(1)) expect(() => JSON.parse(line)).not.toThrow();
    // script(1) signals the server and exits; the server drains, or script(1) kills it when that takes long (a stale lock: the next start takes it over).
    const lock = path.join(dataDir, 'pglite.lock');
    for (const until = Date.now() + 60_000; lockOwner(lock) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    expect(lockOwner(lock)).toBeUndefined();
    // Production logs are for machines, terminal or not.
    const production = await tty({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40) });
    expect(production).toContain('wharf: listening');
    for (const line of production.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
