import fc from 'fast-check';
import { parseForm } from '../../../src/http/wire-body';

const reference = (text: string) => Object.fromEntries(new URLSearchParams(text));

// Characters that matter to form decoding, and some that are nasty anywhere.
const nasty = fc.constantFrom('?', '&', '=', '+', '%', '%2', '%%', '%zz', '%41', '%C3%A9', '%E0%A4%A', '%ED%A0%80', '%FF', '__proto__', 'constructor', '\u0000', '\ud800', '\udfff', '😀', 'é', ' ', '\n', ';');

test('parseForm equals Object.fromEntries(new URLSearchParams(x)) for any string', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      expect(parseForm(text)).toEqual(reference(text));
    }),
    { numRuns: 20_000 },
  );
});

test('…and for strings built from the characters form decoding cares about', () => {
  const piece = fc.oneof(nasty, fc.string({ maxLength: 6 }), fc.stringMatching(/^%[0-9A-Fa-f]{2}$/));
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const text = pieces.join('');
      const ours = parseForm(text);
      const theirs = reference(text);
      expect(ours).toEqual(theirs);
      // Own properties, in the same order, with nothing on the prototype.
      expect(Object.keys(ours)).toEqual(Object.keys(theirs));
      expect(Object.getPrototypeOf(ours)).toBe(Object.prototype);
    }),
    { numRuns: 20_000 },
  );
});

test('fixed nasty cases', () => {
  for (const text of ['', '?', '??a=1', '?a=1&b', '&', '&&=&', '=', '==', 'a', 'a=', '=b', 'a=1&a=2', '__proto__=x', 'a%=1', 'a=%', '%E0%A4%A=1', 'x=%ED%A0%80', 'a+b=c+d', 'k=\ud800', `${'a=1&'.repeat(2000)}b=2`]) {
    expect([text.slice(0, 20), parseForm(text)]).toEqual([text.slice(0, 20), reference(text)]);
  }
});
