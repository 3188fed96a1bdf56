import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api } from '../../support/api-client';
import { startTestApp } from '../../support/app';
import { DB_KINDS } from '../../support/db-kinds';
import { seedPglite } from '../../support/pglite-template';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

// With no server running, the CLI opens the embedded database itself (see embedded-database.test.ts for a running one).
// Each command is a process that loads PGlite: the timeouts are generous so a busy machine still passes.
describe.each(DB_KINDS)('the operator CLI (%s)', (kind) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-cli-'));
    if (kind === 'postgres') db = await createTestDatabase();
    else await seedPglite(path.join(dataDir, 'pglite'));
    env = db ? { DATABASE_URL: db.url } : { DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const wharf = (args: string[]) => run(process.execPath, [path.join(root, 'bin/wharf.js'), ...args], { cwd: root, env: { PATH: process.env.PATH!, ...env } });

  test('operators create a user and an API key from the command line, and the key works', async () => {
    const migrated = await wharf(['migrate']);
    expect(migrated.stdout).toMatch(/Applied \d+ migration|up to date/);

    const created = await wharf(['user:create', '--email', 'ops@example.com', '--password', 'a long enough password']);
    expect(created.stdout).toMatch(/Created user ops@example.com/);

    const { stdout } = await wharf(['apikey:create', '--email', 'ops@example.com', '--name', 'release bot']);
    const key = stdout.trim();
    expect(key).toMatch(/^wharf_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{40,}$/);
    expect((await wharf(['migrate'])).stdout).toMatch(/up to date/);

    const app = await startTestApp({ env });
    try {
      const res = await api(app.url, key, 'GET', '/api/v1/products');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ products: [] });
    } finally {
      await app.stop();
    }
  }, 480_000);

  test('bad CLI use explains itself and exits non-zero', async () => {
    await expect(wharf(['user:create', '--email', 'x@example.com'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --email and --password/) });
    await expect(wharf(['user:create', '--email', 'bad', '--password', 'short'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/valid email/) });
    // The same password rules as sign-up: a common password is refused with zxcvbn's advice.
    await expect(wharf(['user:create', '--email', 'weak@example.com', '--password', 'password1234'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/password: This password is too easy to guess\. This is similar to a commonly used password\./),
    });
    await expect(wharf(['apikey:create', '--email', 'nobody@example.com'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/No user/) });
    await expect(wharf(['frobnicate'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown command/) });
  }, 480_000);
});

test('a CLI failure prints the real reason and its causes, and exits 1', async () => {
  // Nothing listens on port 1: the driver's connection error must reach the operator as it is.
  const failed = run(process.execPath, [path.join(root, 'bin/wharf.js'), 'migrate'], {
    cwd: root,
    env: { PATH: process.env.PATH!, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATABASE_QUERY_TIMEOUT_MS: '500' },
  });
  const err = await failed.then(
    () => {
      throw new Error('migrate succeeded against a closed port');
    },
    (e: { code: number; stderr: string }) => e,
  );
  expect(err.code).toBe(1);
  expect(err.stderr).toMatch(/^Error: .*ECONNREFUSED/);
  expect(err.stderr).not.toContain('[object Object]');
}, 120_000);
