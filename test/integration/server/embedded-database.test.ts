import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api } from '../../support/api-client';
import { buildOnce, exited, listeningUrl, ROOT, startServer, stopServer, type ServerProcess } from '../../support/server-process';

// The embedded default as an operator runs it: `npm start` (PGlite in DATA_DIR) and `npx wharf …` beside it.
const run = promisify(execFile);
let dataDir: string;
let env: Record<string, string>;
let base: string;
let server: ServerProcess | undefined;

beforeAll(async () => {
  buildOnce();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-embedded-'));
  env = { PORT: '0', EMBEDDED_S3_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
});
afterAll(async () => {
  await stopServer(server);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const wharf = (args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH!, DATA_DIR: dataDir } });

/** Starts the server and points `base` at it (a new port each time). */
async function start(): Promise<ServerProcess> {
  const s = startServer(env);
  base = await listeningUrl(s);
  return s;
}

let key: string;

test('a user and an API key made by the CLI while the server runs work at once, and after a restart', async () => {
  server = await start();
  expect((fs.statSync(path.join(dataDir, '.s.PGSQL.5432')).mode & 0o777).toString(8)).toBe('600');
  expect((await wharf(['user:create', '--email', 'ops@example.com', '--password', 'a long enough password'])).stdout).toMatch(/Created user ops@example.com/);
  key = (await wharf(['apikey:create', '--email', 'ops@example.com', '--name', 'ci'])).stdout.trim();
  expect(key).toMatch(/^wharf_/);
  expect((await wharf(['migrate'])).stdout).toMatch(/up to date/);

  const now = await api(base, key, 'GET', '/api/v1/products');
  expect(now.status).toBe(200);
  expect((await api(base, key, 'POST', '/api/v1/products', { type: 'plugin', slug: 'made-live', name: 'Made live' })).status).toBe(201);

  await stopServer(server);
  server = await start();
  const after = await api(base, key, 'GET', '/api/v1/products');
  expect(after.status).toBe(200);
  expect(after.json.products.map((p: { slug: string }) => p.slug)).toEqual(['made-live']);
}, 240_000);

test('a second server on the same DATA_DIR exits at once with a message naming the running one', async () => {
  const pid = server!.child.pid!;
  const second = startServer(env);
  expect(await exited(second.child)).toBe(1);
  expect(second.stderr()).toContain(`wharf failed to start: ${path.join(dataDir, 'pglite')} is in use by the Wharf server (PID ${pid})`);
  expect(second.stderr()).toMatch(new RegExp(`stop that server first \\(kill ${pid}\\)`));
  // It never touched the files: the first server goes on serving.
  expect((await api(base, key, 'GET', '/api/v1/products')).status).toBe(200);
}, 120_000);

test('kill -9 in the middle of a stream of writes loses nothing that was acknowledged', async () => {
  const acknowledged: string[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const slug = `w${w}-${i}`;
      const res = await api(base, key, 'POST', '/api/v1/products', { type: 'plugin', slug, name: slug }).catch(() => null);
      if (res?.status === 201) acknowledged.push(slug);
      else if (res) throw new Error(`write refused: ${res.status} ${res.text}`);
      else break; // connection reset by the kill
    }
  };
  const writers = [1, 2, 3, 4].map(writer);
  while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));
  const killed = exited(server!.child);
  server!.child.kill('SIGKILL');
  await killed;
  stop = true;
  await Promise.all(writers);

  server = await start();
  const list = await api(base, key, 'GET', '/api/v1/products');
  expect(list.status).toBe(200);
  const stored = new Set(list.json.products.map((p: { slug: string }) => p.slug));
  expect(acknowledged.filter((slug) => !stored.has(slug))).toEqual([]);
  expect(acknowledged.length).toBeGreaterThanOrEqual(40);
  // The CLI works against the restarted server as well.
  expect((await wharf(['apikey:create', '--email', 'ops@example.com'])).stdout).toMatch(/^wharf_/);
}, 240_000);

test('everything in DATA_DIR is private: directories 0700, files 0600', async () => {
  await stopServer(server);
  server = undefined;
  const loose: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const mode = fs.lstatSync(full).mode & 0o777;
      if (entry.isDirectory()) {
        if (mode !== 0o700) loose.push(`${mode.toString(8)} ${full}`);
        walk(full);
      } else if (mode !== 0o600) loose.push(`${mode.toString(8)} ${full}`);
    }
  };
  expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
  walk(dataDir);
  expect(loose).toEqual([]);
  for (const name of ['pglite', 's3', 'secret-key']) expect(fs.existsSync(path.join(dataDir, name))).toBe(true);
  expect(fs.readdirSync(path.join(dataDir, 'pglite')).length).toBeGreaterThan(10);
  // A clean stop leaves no lock and no socket behind.
  expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  expect(fs.existsSync(path.join(dataDir, '.s.PGSQL.5432'))).toBe(false);
}, 120_000);
