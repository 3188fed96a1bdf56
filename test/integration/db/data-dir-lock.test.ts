import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../../src/db/client';
import { acquireDataDirLock, DataDirLockedError } from '../../../src/db/data-dir-lock';
import { createLogger } from '../../../src/logger';
import { seedPglite } from '../../support/pglite-template';
import { buildOnce, ROOT } from '../../support/server-process';

const logger = createLogger('silent');
let dir: string;
beforeAll(() => buildOnce()); // the race below runs the built module in child processes
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-lock-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The PID of a process that has exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
}

const holderOf = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; role: string };

test('a second opener of the same embedded database fails at once, naming the owner, and never opens the files', async () => {
  const pglitePath = path.join(dir, 'pglite');
  await seedPglite(pglitePath);
  const config = { url: undefined, poolMax: 1, queryTimeoutMs: 5000, pglitePath };
  const first = await openDatabase(config, logger, { role: 'server' });
  try {
    await first.db.execute(sql`create table kept (x int)`);
    const err = await openDatabase(config, logger, { role: 'wharf migrate' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain(`${pglitePath} is in use by the Wharf server (PID ${process.pid})`);
    expect(holderOf(`${pglitePath}.lock`)).toMatchObject({ pid: process.pid, role: 'server' });
    await first.db.execute(sql`insert into kept values (1)`); // the owner is unharmed
  } finally {
    await first.close();
  }
  expect(fs.existsSync(`${pglitePath}.lock`)).toBe(false);
  const again = await openDatabase(config, logger);
  await again.close();
}, 120_000);

test('a DATA_DIR that already existed keeps its mode (it may be shared); what Wharf made is private', async () => {
  const shared = path.join(dir, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o1777); // like /tmp
  const pglitePath = path.join(shared, 'pglite');
  await seedPglite(pglitePath);
  const database = await openDatabase({ url: undefined, poolMax: 1, queryTimeoutMs: 5000, pglitePath }, logger);
  await database.close();
  expect((fs.statSync(shared).mode & 0o7777).toString(8)).toBe('1777');
  expect((fs.statSync(pglitePath).mode & 0o777).toString(8)).toBe('700');
  const files = fs.readdirSync(pglitePath, { recursive: true }).map((f) => path.join(pglitePath, String(f)));
  expect(files.filter((f) => fs.statSync(f).isFile() && (fs.statSync(f).mode & 0o777) !== 0o600)).toEqual([]);
}, 120_000);

test('a lock left by a dead process, by an earlier process with our PID, or garbled, is taken over', async () => {
  const lockPath = path.join(dir, 'pglite.lock');
  const leftovers = [
    JSON.stringify({ pid: deadPid(), role: 'server', since: '2026-01-01T00:00:00Z' }),
    // A container restarts its server with the same PID as before the crash.
    JSON.stringify({ pid: process.pid, role: 'server', since: '2026-01-01T00:00:00Z' }),
    '{"pid": ', // a write cut short
  ];
  for (const text of leftovers) {
    fs.writeFileSync(lockPath, text);
    const lock = await acquireDataDirLock(lockPath, dir, 'server');
    expect(holderOf(lockPath)).toMatchObject({ pid: process.pid, role: 'server' });
    lock.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  }
});

test('a live owner is never taken over, even when the lock is old', async () => {
  const lockPath = path.join(dir, 'pglite.lock');
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    fs.writeFileSync(lockPath, JSON.stringify({ pid: sleeper.pid, role: 'wharf migrate', since: '2020-01-01T00:00:00Z' }));
    const err = await acquireDataDirLock(lockPath, dir, 'server').catch((e: unknown) => e);
    expect((err as Error).message).toContain(`is in use by \`wharf migrate\` (PID ${sleeper.pid})`);
    expect(holderOf(lockPath).pid).toBe(sleeper.pid);
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('of many processes finding the same stale lock at once, exactly one takes it', async () => {
  const lockPath = path.join(dir, 'pglite.lock');
  fs.writeFileSync(lockPath, JSON.stringify({ pid: deadPid(), role: 'server', since: '2026-01-01T00:00:00Z' }));
  const module = path.join(ROOT, 'dist/src/db/data-dir-lock.js');
  const startAt = Date.now() + 1500; // all of them go at the same moment
  // A winner keeps the lock until every racer has tried (the test closes its stdin).
  const racer = `
    const { acquireDataDirLock } = require(${JSON.stringify(module)});
    while (Date.now() < ${startAt});
    acquireDataDirLock(${JSON.stringify(lockPath)}, 'dir', 'racer').then(
      (lock) => { process.stdout.write('won'); process.stdin.on('end', () => lock.release()).resume(); },
      (err) => { process.stdout.write('lost ' + (err.holder ? err.holder.pid : err.message)); });`;
  const children = Array.from({ length: 8 }, () => spawn(process.execPath, ['-e', racer]));
  const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  const results = await Promise.all(
    children.map((child) => {
      let out = '';
      child.stderr.on('data', (d) => (out += d));
      return new Promise<{ pid: number; out: string }>((resolve) => child.stdout.once('data', (d) => resolve({ pid: child.pid!, out: out + d })));
    }),
  );
  for (const child of children) child.stdin.end();
  await Promise.all(exits);
  const winners = results.filter((r) => r.out === 'won');
  expect(winners).toHaveLength(1);
  for (const r of results.filter((x) => x !== winners[0])) expect(r.out).toBe(`lost ${winners[0]!.pid}`);
  expect(fs.existsSync(lockPath)).toBe(false); // released by the winner
  expect(fs.readdirSync(dir)).toEqual([]); // no temp or guard files left
}, 60_000);
