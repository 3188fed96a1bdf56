/** PHP's version_compare(), byte for byte, so Wharf orders versions exactly as WordPress does. */

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlnum = (c: string): boolean => isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isSpecial = (c: string): boolean => c === '-' || c === '_' || c === '+';

/** php_canonicalize_version: `-_+` and other non-alphanumerics become one `.`, and a `.` splits digit/letter runs. */
function canonicalize(version: string): string {
  if (version === '') return '';
  let out = version[0]!;
  let prev = version[0]!;
  for (let i = 1; i < version.length; i++) {
    const c = version[i]!;
    const last = out[out.length - 1];
    if (isSpecial(c)) {
      if (last !== '.') out += '.';
    } else if ((!isDigit(prev) && prev !== '.' && isDigit(c)) || (isDigit(prev) && !isDigit(c) && c !== '.')) {
      if (last !== '.') out += '.';
      out += c;
    } else if (!isAlnum(c)) {
      if (last !== '.') out += '.';
    } else {
      out += c;
    }
    prev = c;
  }
  return out;
}

// Order of PHP's special forms; PHP matches them as prefixes (strncmp), first hit wins.
const SPECIAL_FORMS: ReadonlyArray<readonly [string, number]> = [
  ['dev', 0], ['alpha', 1], ['a', 1], ['beta', 2], ['b', 2], ['RC', 3], ['rc', 3], ['#', 4], ['pl', 5], ['p', 5],
];

function specialOrder(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);
const compareForms = (a: string, b: string): -1 | 0 | 1 => sign(specialOrder(a) - specialOrder(b));

// strtol() saturates at LONG_MAX on 64-bit PHP builds.
const LONG_MAX = 9223372036854775807n;
function strtol(part: string): bigint {
  const digits = /^[0-9]+/.exec(part)?.[0] ?? '0';
  const n = BigInt(digits);
  return n > LONG_MAX ? LONG_MAX : n;
}

function phpVersionCompare(v1: string, v2: string): -1 | 0 | 1 {
  if (v1 === '' || v2 === '') return v1 === v2 ? 0 : v1 !== '' ? 1 : -1;
  const s1 = v1[0] === '#' ? v1 : canonicalize(v1);
  const s2 = v2[0] === '#' ? v2 : canonicalize(v2);
  // Mirrors the C loop over the remaining strings: n1/n2 are the '.' ending the current part, or -1.
  let p1 = 0;
  let p2 = 0;
  let n1 = 0;
  let n2 = 0;
  let compare: -1 | 0 | 1 = 0;
  while (p1 < s1.length && p2 < s2.length && n1 >= 0 && n2 >= 0) {
    n1 = s1.indexOf('.', p1);
    n2 = s2.indexOf('.', p2);
    const part1 = s1.slice(p1, n1 < 0 ? undefined : n1);
    const part2 = s2.slice(p2, n2 < 0 ? undefined : n2);
    const d1 = isDigit(part1[0] ?? '');
    const d2 = isDigit(part2[0] ?? '');
    if (d1 && d2) {
      const l1 = strtol(part1);
      const l2 = strtol(part2);
      compare = l1 < l2 ? -1 : l1 > l2 ? 1 : 0;
    } else if (!d1 && !d2) {
      compare = compareForms(part1, part2);
    } else {
      compare = d1 ? compareForms('#N#', part2) : compareForms(part1, '#N#');
    }
    if (compare !== 0) break;
    if (n1 >= 0) p1 = n1 + 1;
    if (n2 >= 0) p2 = n2 + 1;
  }
  if (compare === 0) {
    if (n1 >= 0) {
      const rest = s1.slice(p1);
      compare = isDigit(rest[0] ?? '') ? 1 : phpVersionCompare(rest, '#N#');
    } else if (n2 >= 0) {
      const rest = s2.slice(p2);
      compare = isDigit(rest[0] ?? '') ? -1 : phpVersionCompare('#N#', rest);
    }
  }
  return compare;
}

// PHP works on the UTF-8 bytes of a C string: one char per byte, nothing after a NUL.
const toCString = (s: string): string => Buffer.from(s.split('\0')[0]!, 'utf8').toString('latin1');

// Plain dotted numbers (nearly every release): PHP compares them part by part as integers, and more parts win.
const NUMERIC = /^\d{1,15}(?:\.\d{1,15})*$/;

function compareNumeric(a: string, b: string): -1 | 0 | 1 {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < x.length && i < y.length; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return sign(x.length - y.length);
}

/** Compare like PHP's version_compare($a, $b): -1 if a < b, 0 if equal, 1 if a > b. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  if (NUMERIC.test(a) && NUMERIC.test(b)) return compareNumeric(a, b);
  return phpVersionCompare(toCString(a), toCString(b));
}

// A digit first, then letters/digits optionally separated by single . - _ +, never ending on one.
const VERSION_RE = /^[0-9](?:[.\-_+]?[0-9A-Za-z])*$/;

/** Versions WordPress plugins actually ship: 1, 1.2.3, 2.0-beta1, 1.0.0-rc.1 (≤ 64 chars). */
export function isValidVersion(v: string): boolean {
  return v.length > 0 && v.length <= 64 && VERSION_RE.test(v);
}
