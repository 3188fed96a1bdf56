import { compareVersions, isValidVersion } from '../../src/lib/version-compare';

describe('compareVersions (PHP version_compare)', () => {
  // [a, b, version_compare(a, b)] as PHP 8 returns them.
  it.each([
    ['1.0.0', '1.0.1', -1],
    ['1.0.1', '1.0.0', 1],
    ['1.0.0', '1.0.0', 0],
    ['1.0', '1.0.0', -1],
    ['5.2', '5.10', -1],
    ['1.0rc1', '1.0', -1],
    ['1.0-beta', '1.0-rc1', -1],
    ['1.0', '1.0pl1', -1],
    ['1.0-dev', '1.0-alpha', -1],
    ['1.0alpha', '1.0a', 0],
    ['1.0beta', '1.0b', 0],
    ['1.0RC1', '1.0rc1', 0],
    ['1.0-rc.1', '1.0-RC1', 0],
    ['1.0-foo', '1.0-dev', -1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0p1', '1.0pl1', 0],
    ['1.0pl1', '1.0.1', 1],
    ['1.0-1', '1.0.1', 0],
    ['1.0_1', '1.0+1', 0],
    ['2.0', '10.0', -1],
    ['1.01', '1.1', 0],
    ['', '', 0],
    ['', '1', -1],
    ['1', '', 1],
    ['1.', '1.', -1],
    ['1.0', '1.0.a', 1],
    ['1.0', '1.0.#', 1],
    ['99999999999999999999', '99999999999999999998', 0],
  ] as const)('version_compare(%j, %j) = %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    if (a !== b) expect(compareVersions(b, a)).toBe(-expected || 0);
  });

  it('sorts a release list the way WordPress would', () => {
    const sorted = ['1.10', '1.2', '1.2-beta2', '1.2-rc1', '1.2-alpha', '1.2-dev', '1.2.0', '1.2pl1'].sort(compareVersions);
    expect(sorted).toEqual(['1.2-dev', '1.2-alpha', '1.2-beta2', '1.2-rc1', '1.2', '1.2.0', '1.2pl1', '1.10']);
  });
});

describe('isValidVersion', () => {
  it.each(['1', '1.2.3', '2.0-beta1', '1.0.0-rc.1', '10.4.2.1', '3.0_1', '1.0+build5', '2024.05.01'])('accepts %j', (v) => {
    expect(isValidVersion(v)).toBe(true);
  });

  it.each(['', 'v1.0', '1.0 beta', '1/2', '1\\2', '1..2', '1.', '-1', '1.0-', 'beta', '1.0\n', `1.${'0'.repeat(63)}`])('rejects %j', (v) => {
    expect(isValidVersion(v)).toBe(false);
  });
});
