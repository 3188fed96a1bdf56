import crypto from 'node:crypto';

// Crockford's base32: no I, L, O or U, so codes read aloud and typed by hand survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 32; // 32 × 5 bits = 160 random bits
const CANONICAL = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

/** A new purchase code in canonical form (upper case, no separators). */
export function generateCode(): string {
  const bytes = crypto.randomBytes(LENGTH);
  let out = '';
  for (let i = 0; i < LENGTH; i++) out += ALPHABET[bytes[i]! & 31];
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

/** Readable grouped form: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX. */
export function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}
