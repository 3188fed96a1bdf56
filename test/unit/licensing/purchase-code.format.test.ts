import { formatCode, generateCode, normalizeCode } from '../../../src/services/licensing/purchase-code.format';

test('generated codes are canonical, distinct and read back as themselves', () => {
  const codes = new Set(Array.from({ length: 2000 }, generateCode));
  expect(codes.size).toBe(2000);
  for (const c of codes) {
    expect(c).toMatch(/^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{32}$/);
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

test('anything else is not a code', () => {
  for (const input of [undefined, null, 42, {}, '', 'short', '0123456789ABCDEFGHJKMNPQRSTVWXY', '0123456789ABCDEFGHJKMNPQRSTVWXYZ0', 'U123456789ABCDEFGHJKMNPQRSTVWXYZ', '0123456789ABCDEFGHJKMNPQRSTVWXY!', `${'-'.repeat(90)}0123456789`, 'A'.repeat(101), '0123456789ABCDEFGHJKMNPQRSTVWXY\u0000'])
    expect([input, normalizeCode(input)]).toEqual([input, null]);
});
