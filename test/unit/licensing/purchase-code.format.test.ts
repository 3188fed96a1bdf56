import { formatCode, generateCode, normalizeCode } from '../../../src/services/licensing/purchase-code.format';

test('generated codes are 26 Crockford characters (130 bits), distinct, grouped 5-5-5-5-6, and read back as themselves', () => {
  const codes = new Set(Array.from({ length: 2000 }, generateCode));
  expect(codes.size).toBe(2000);
  expect(Math.log2(32 ** 26)).toBeGreaterThanOrEqual(128);
  for (const c of codes) {
    expect(c).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{26}$/);
    expect(formatCode(c)).toMatch(/^(\w{5}-){4}\w{6}$/);
    expect(normalizeCode(c)).toBe(c);
    expect(normalizeCode(formatCode(c))).toBe(c);
    expect(normalizeCode(formatCode(c).toLowerCase())).toBe(c);
  }
});

test('what customers type: lower case, spaces, dashes, O for 0 and I or L for 1', () => {
  const c = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  expect(normalizeCode(' 0123-4567 89ab cdef ghjk mnpq rstv wxyz ')).toBe(c);
  expect(normalizeCode('O123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ')).toBe(c);
  expect(normalizeCode('0I23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ')).toBe(c);
  expect(normalizeCode('0l23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ')).toBe(c);
});

test('codes made before (32 characters, eight groups of four) are still accepted and shown as before', () => {
  const legacy = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  expect(normalizeCode(legacy)).toBe(legacy);
  expect(formatCode(legacy)).toBe('0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ');
  expect(normalizeCode('0123-4567-89ab-cdef-ghjk-mnpq-rstv-wxyz')).toBe(legacy);
  const fresh = '0123456789ABCDEFGHJKMNPQRS';
  expect(formatCode(fresh)).toBe('01234-56789-ABCDE-FGHJK-MNPQRS');
  expect(normalizeCode('o1234 56789 abcde fghjk mnpqrs')).toBe(fresh);
  // Between the two lengths nothing is a code.
  for (let n = 27; n < 32; n++) expect(normalizeCode(legacy.slice(0, n))).toBeNull();
  expect(normalizeCode(fresh.slice(0, 25))).toBeNull();
});

test('anything else is not a code', () => {
  for (const input of [undefined, null, 42, {}, '', 'short', '0123456789ABCDEFGHJKMNPQRSTVWXY', '0123456789ABCDEFGHJKMNPQRSTVWXYZ0', 'U123456789ABCDEFGHJKMNPQRSTVWXYZ', '0123456789ABCDEFGHJKMNPQRSTVWXY!', `${'-'.repeat(90)}0123456789`, 'A'.repeat(101), '0123456789ABCDEFGHJKMNPQRSTVWXY\u0000'])
    expect([input, normalizeCode(input)]).toEqual([input, null]);
});
