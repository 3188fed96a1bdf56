import { spawnSync } from 'node:child_process';
import { compareVersions } from '../../../src/lib/version-compare';

/** compareVersions against PHP's own version_compare(), on versions as plugins ship them and odd ones. */

function phpCompare(pairs: [string, string][]): number[] {
  const script = '$pairs = json_decode(stream_get_contents(STDIN)); echo json_encode(array_map(fn($p) => version_compare($p[0], $p[1]), $pairs));';
  const r = spawnSync('php', ['-r', script], { encoding: 'utf8', input: JSON.stringify(pairs) });
  if (r.error || r.status !== 0) throw new Error(`php CLI is required for this test: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}

test('agrees with PHP on 3,000 generated pairs: dotted numbers (the fast path) and pre-release forms', () => {
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const numeric = () => Array.from({ length: 1 + rand(4) }, () => String(rand(3) === 0 ? rand(3) : rand(120)).padStart(rand(5) === 0 ? 2 : 1, '0')).join('.');
  const suffixes = ['', '', '-beta', 'rc1', '-RC.2', 'alpha', 'pl1', '-dev', '.0', '-1', '+build', '.'];
  const version = () => numeric() + suffixes[rand(suffixes.length)]!;
  const pairs: [string, string][] = [];
  for (let i = 0; i < 3000; i++) {
    const a = i % 2 ? numeric() : version();
    pairs.push([a, rand(4) === 0 ? a : i % 3 ? numeric() : version()]);
  }
  pairs.push(['99999999999999999999', '1'], ['1.000000000000001', '1.1'], ['1.0', '1.0.0'], ['10', '9.99']);
  const expected = phpCompare(pairs);
  const mismatches = pairs.filter(([a, b], i) => compareVersions(a, b) !== expected[i]).map(([a, b]) => `${a} vs ${b}`);
  expect(mismatches).toEqual([]);
});
