import crypto from 'node:crypto';

// Crockford's base32: no I, L, O or U, so codes read aloud and typed by hand survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** New codes: 26 × 5 = 130 random bits, shown as five groups (5-5-5-5-6). */
export const CODE_LENGTH = 26;
/** Codes made before: 32 × 5 = 160 bits, shown as eight groups of four. Still accepted everywhere. */
export const LEGACY_CODE_LENGTH = 32;
/** The shortest thing that can be a code, typed or in a path. */
export const MIN_CODE_CHARS = CODE_LENGTH;
const CANONICAL = new RegExp(`^(?:[${ALPHABET}]{${CODE_LENGTH}}|[${ALPHABET}]{${LEGACY_CODE_LENGTH}})$`);

/** A new purchase code in canonical form (upper case, no separators). */
export function generateCode(): string {
  // 256 is a multiple of 32: `byte & 31` is uniform.
  const bytes = crypto.randomBytes(CODE_LENGTH);
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

/** Canonical form of what a customer typed, or null when it cannot be a code. */
export function normalizeCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 100) return null;
  if (CANONICAL.test(input)) return input; // what the PHP client sends: nothing to undo
  const s = input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return CANONICAL.test(s) ? s : null;
}

/** Readable grouped form: XXXXX-XXXXX-XXXXX-XXXXX-XXXXXX (new) or XXXX-…-XXXX (eight groups, legacy). */
export function formatCode(code: string): string {
  if (code.length === CODE_LENGTH) return `${code.slice(0, 5)}-${code.slice(5, 10)}-${code.slice(10, 15)}-${code.slice(15, 20)}-${code.slice(20)}`;
  return code.match(/.{1,4}/g)!.join('-');
}
