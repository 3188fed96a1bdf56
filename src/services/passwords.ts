import argon2 from 'argon2';
import { estimateStrength } from './password-strength';

// OWASP's argon2id baseline: 19 MiB, 2 passes.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  // Spend the same time on unknown accounts so timing does not reveal which emails exist.
  if (!hash) {
    await argon2.hash(password, OPTIONS);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;
// zxcvbn score 3 = about 10^8 guesses or more: "safely unguessable" against an online attack.
const MIN_SCORE = 3;

/** Null when the password may be set, else the message to show next to the field. */
export async function passwordProblem(password: string, userInputs: string[] = []): Promise<string | null> {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  // The email and its parts are the first things an attacker tries.
  // Longer than any email: not something a person would build a password from, and zxcvbn's time grows with it.
  const inputs = userInputs
    .filter((u) => u.length <= 254)
    .flatMap((u) => [u, ...u.split(/[@.+_-]+/)])
    .filter((u) => u.length >= 3);
  const verdict = await estimateStrength(password, inputs);
  if (verdict.score >= MIN_SCORE) return null;
  const advice = [verdict.warning, ...verdict.suggestions].filter(Boolean).join(' ');
  return `This password is too easy to guess. ${advice || 'Add a few uncommon words.'}`;
}
