import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';
import { startTestApp } from '../../support/app';
import { api } from '../../support/api-client';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const wharf = (args: string[]) =>
  run(process.execPath, [path.join(root, 'bin/wharf.js'), ...args], { cwd: root, env: { PATH: process.env.PATH!, DATABASE_URL: db.url } });

test('operators create a user and an API key from the command line, and the key works', async () => {
  const migrated = await wharf(['migrate']);
  expect(migrated.stdout).toMatch(/Applied \d+ migration|up to date/);

  const created = await wharf(['user:create', '--email', 'ops@example.com', '--password', 'a long enough password']);
  expect(created.stdout).toMatch(/Created user ops@example.com/);

  const { stdout } = await wharf(['apikey:create', '--email', 'ops@example.com', '--name', 'release bot']);
  const key = stdout.trim();
  expect(key).toMatch(/^wharf_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{40,}$/);
  expect((await wharf(['migrate'])).stdout).toMatch(/up to date/);

  const app = await startTestApp({ env: { DATABASE_URL: db.url } });
  try {
    const res = await api(app.url, key, 'GET', '/api/v1/products');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ products: [] });
  } finally {
    await app.stop();
  }
});

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
});
