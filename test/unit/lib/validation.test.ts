import { z } from 'zod';
import { ValidationError } from '../../../src/lib/errors';
import { assertPlainText, controlCharProblem, multilineText, optionalDay, parseInput, requiredText, wholeNumber } from '../../../src/lib/validation';

const controls = [...Array.from({ length: 32 }, (_, i) => i), 127].map((c) => String.fromCharCode(c));

test('every C0 control and DEL is refused in single-line text, except tab', () => {
  for (const c of controls) {
    const problem = controlCharProblem(`ab${c}cd`);
    if (c === '\t') expect(problem).toBeNull();
    else expect({ code: c.charCodeAt(0), problem }).toEqual({ code: c.charCodeAt(0), problem: expect.any(String) });
  }
  expect(controlCharProblem('a\u0000b')).toBe('Remove the control character U+0000; only printable text is accepted.');
  expect(controlCharProblem('a\u007fb')).toMatch(/U\+007F/);
  expect(controlCharProblem('two\nlines')).toBe('Use a single line (no line breaks).');
});

test('multi-line text keeps tab, CR and LF, and refuses the other controls', () => {
  for (const c of controls) {
    const allowed = c === '\t' || c === '\n' || c === '\r';
    expect({ code: c.charCodeAt(0), ok: controlCharProblem(`ab${c}cd`, true) === null }).toEqual({ code: c.charCodeAt(0), ok: allowed });
  }
  expect(multilineText(10).safeParse('a\r\nb\tc').success).toBe(true);
  expect(multilineText(10).safeParse('a\u0000b').success).toBe(false);
});

test('printable Unicode is text, whatever the script', () => {
  for (const s of ['Café Ünïcødé', '日本語のプラグイン', 'emoji 🚢', 'RTL עברית', 'U+0085 \u0085 is C1, not C0']) expect(controlCharProblem(s)).toBeNull();
});

test('a schema names the field of the control character', () => {
  const schema = z.object({ name: requiredText(50, 'Enter a name.'), other: requiredText(50, 'Enter it.') });
  expect(() => parseInput(schema, { name: 'a\u0000', other: 'fine' })).toThrow(ValidationError);
  expect(() => parseInput(schema, { name: 'fine', other: '\u001b[31mred' })).toThrow(
    expect.objectContaining({ fields: { other: 'Remove the control character U+001B; only printable text is accepted.' } }),
  );
});

test('the guard for values read outside a schema', () => {
  expect(() => assertPlainText({ a: 'fine', b: 42, c: undefined, d: 'multi\nline' }, ['d'])).not.toThrow();
  expect(() => assertPlainText({ search: 'x\u0000' })).toThrow(expect.objectContaining({ status: 422, fields: { search: expect.stringMatching(/U\+0000/) } }));
});

test('whole numbers: JSON numbers and plain digits only', () => {
  const n = z.object({ n: wholeNumber({ min: 1, max: 1000, empty: null, message: 'bad' }) });
  const ok = (v: unknown) => n.safeParse({ n: v });
  for (const [input, out] of [[5, 5], ['5', 5], ['0005', 5], ['1000', 1000], [undefined, null], ['', null], [null, null], [5.0, 5]] as const) {
    expect({ input, out: ok(input).data?.n }).toEqual({ input, out });
  }
  for (const input of ['1e3', '0x10', '0b1', '0o7', ' 5', '5 ', '5.0', '+5', '-5', '1_0', 'Infinity', 'NaN', '٥', '５', 5.5, 0, 1001, -1, true, [5], {}, '9'.repeat(400)]) {
    expect({ input, ok: ok(input).success }).toEqual({ input, ok: false });
  }
});

test('days: YYYY-MM-DD, real calendar days, from 2000-01-01 to 2100-12-31', () => {
  const d = z.object({ d: optionalDay });
  for (const v of ['2000-01-01', '2024-02-29', '2100-12-31']) expect(d.safeParse({ d: v }).data?.d).toBe(v);
  expect(d.safeParse({ d: '' }).data?.d).toBeNull();
  for (const v of ['1999-12-31', '2101-01-01', '0000-01-01', '9999-12-31', '2023-02-29', '2024-13-01', '2024-00-10', '9999-99-99', '2024-1-1', '2024-01-01T00:00:00Z', ' 2024-01-01', '20240101', 20240101]) {
    expect({ v, ok: d.safeParse({ d: v }).success }).toEqual({ v, ok: false });
  }
});
