import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientsDirectory, phpSingleQuoted, renderClientFile } from '../../../src/services/client-files.service';

/** Every PHP file we ship or test with parses, raw and once the dashboard has filled it in, and keeps to PHP 7.4. */

const ID = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const dir = clientsDirectory();
const shipped = ['plugin_update_check.php', 'theme_update_check.php'].map((f) => path.join(dir, f));
const fixtures = fs.readdirSync(path.join(dir, 'test-fixtures')).filter((f) => f.endsWith('.php')).map((f) => path.join(dir, 'test-fixtures', f));
let work: string;

function php(args: string[], input?: string) {
  const r = spawnSync('php', args, { encoding: 'utf8', input });
  if (r.error) throw new Error(`php CLI is required for these tests: ${r.error.message}`);
  return { out: `${r.stdout}${r.stderr}`, code: r.status, stdout: r.stdout };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-php-lint-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

it.each([...shipped, ...fixtures].map((f) => [path.relative(dir, f), f]))('php -l %s', (_name, file) => {
  const r = php(['-l', file]);
  expect(r.out).toContain('No syntax errors detected');
  expect(r.code).toBe(0);
});

it.each(['plugin', 'theme'] as const)('php -l the rendered %s client', (type) => {
  const { filename, contents } = renderClientFile(type, { serverUrl: 'https://updates.example.com:8443/wharf', productId: ID });
  const file = path.join(work, filename);
  fs.writeFileSync(file, contents);
  const r = php(['-l', file]);
  expect(r.out).toContain('No syntax errors detected');
  expect(r.code).toBe(0);
});

it('keeps to PHP 7.4 syntax and functions (the oldest PHP the client supports)', () => {
  const r = php([path.join(dir, 'test-fixtures/php74-syntax-check.php'), ...shipped]);
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
});

it.each(shipped.map((f) => [path.basename(f), f]))('%s does nothing when loaded outside WordPress', (_name, file) => {
  const r = php(['-d', 'error_reporting=E_ALL', '-d', 'display_errors=1', file]);
  expect(r.out).toBe('');
  expect(r.code).toBe(0);
});

it('phpSingleQuoted round-trips through PHP', () => {
  const values = ["it's", 'back\\slash', 'end\\', '$x {$y} "q" \\n \\\'', 'ünïcode ✓'];
  const code = `echo json_encode(array(${values.map(phpSingleQuoted).join(', ')}));`;
  expect(JSON.parse(php(['-r', code]).stdout)).toEqual(values);
});
