import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { Db } from '../db/client';
import { clearThrottle, deleteQuietThrottles, withLockedThrottle } from '../db/queries/login-throttles.queries';
import { sha256Hex } from '../lib/crypto';
import { RateLimitedError, ValidationError } from '../lib/errors';
import { parseInput, plainText } from '../lib/validation';
import { oauthMessage } from './oauth.service';
import type { SharedRateLimiter } from './rate-limits';
import type { SessionsService } from './sessions.service';
import type { User, UsersService } from './users.service';

/** Every sign-in rule in one place (README "Web security" states them). */
export const AUTH_RULES = {
  /** Attempts per client network, whatever the account. */
  perNetwork: { limit: 30, windowMs: 15 * 60_000 },
  /** Failures of one (account, network) pair answered at once; after these each try waits. */
  freeFailures: 5,
  /** The first wait; it doubles with each further failure, up to maxDelayMs. */
  firstDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  /** A pair that stays quiet this long starts again from zero. */
  forgetAfterMs: 24 * 3600_000,
  signUpsPerNetwork: { limit: 20, windowMs: 60 * 60_000 },
} as const;

/** Wait after the nth failure of a pair. */
export function delayAfter(failures: number): number {
  if (failures < AUTH_RULES.freeFailures) return 0;
  return Math.min(AUTH_RULES.maxDelayMs, AUTH_RULES.firstDelayMs * 2 ** (failures - AUTH_RULES.freeFailures));
}

/** The client's network: an IPv4 address, or the /64 of an IPv6 one (one subscriber's usual share). */
export function networkOf(ip: string | undefined): string {
  const raw = (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (isIPv4(raw) || !isIPv6(raw)) return raw || 'unknown';
  const [head = '', tail = ''] = raw.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = raw.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const loginSchema = z.object({
  email: plainText({ error: 'Enter your email address.' }).trim().toLowerCase(),
  password: plainText({ error: 'Enter your password.' }),
});

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
const wait = (ms: number) => (ms < 90_000 ? `${seconds(ms)} second${seconds(ms) === 1 ? '' : 's'}` : `${Math.ceil(ms / 60_000)} minutes`);

/** Signing up, and signing in with email and password; sessions themselves are SessionsService's. */
export class AuthService {
  constructor(
    private readonly db: Db,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly limits: SharedRateLimiter,
  ) {}

  /** Returns the new session's cookie value. */
  async signIn(input: { email: unknown; password: unknown }, ip: string | undefined, now = new Date()): Promise<{ user: User; token: string }> {
    const { email, password } = parseInput(loginSchema, input);
    const network = networkOf(ip);
    await this.limits.hit(`login:ip:${network}`, AUTH_RULES.perNetwork, now, 'Too many sign-in attempts from your network. Try again later.');
    // Accounts made through GitHub or BitBucket have no password: say so rather than "wrong password".
    if (email && (await this.users.isPasswordless(email))) throw new ValidationError(oauthMessage('passwordless'));

    const account = sha256Hex(email);
    const failures = await this.reserveAttempt(account, network, now);
    let user: User;
    try {
      user = await this.users.authenticate(email, password);
    } catch {
      const next = delayAfter(failures);
      const message = next ? `Wrong email or password. Too many failed attempts from your network: wait ${wait(next)} before trying again.` : 'Wrong email or password.';
      // Said once, above the form: which of the two is wrong is deliberately not told.
      throw new ValidationError(message);
    }
    await clearThrottle(this.db, account, network);
    return { user, token: await this.sessions.create(user.id, now) };
  }

  async signUp(input: { email: unknown; password: unknown }, ip: string | undefined, now = new Date()): Promise<{ user: User; token: string }> {
    await this.limits.hit(`signup:ip:${networkOf(ip)}`, AUTH_RULES.signUpsPerNetwork, now, 'Too many sign-ups from your network. Try again later.');
    const user = await this.users.signUp(input.email, input.password);
    return { user, token: await this.sessions.create(user.id, now) };
  }

  /**
   * Counts this attempt as a failure before the password is checked (so parallel guesses cannot
   * slip through) and returns the pair's failures; throws 429 while the pair must still wait.
   */
  private reserveAttempt(account: string, network: string, now: Date): Promise<number> {
    return withLockedThrottle(this.db, account, network, (row) => {
      const fresh = !row || now.getTime() - row.lastFailureAt.getTime() > AUTH_RULES.forgetAfterMs;
      if (row && !fresh && row.nextAttemptAt > now) {
        const ms = row.nextAttemptAt.getTime() - now.getTime();
        throw new RateLimitedError(ms / 1000, `Too many failed sign-ins to this account from your network. Wait ${wait(ms)} and try again.`);
      }
      const failures = fresh ? 1 : row.failures + 1;
      return { result: failures, store: { failures, lastFailureAt: now, nextAttemptAt: new Date(now.getTime() + delayAfter(failures)) } };
    });
  }

  /** Pairs quiet for a day, and rate-limit windows long over. */
  async purgeStale(now = new Date()): Promise<void> {
    await deleteQuietThrottles(this.db, new Date(now.getTime() - AUTH_RULES.forgetAfterMs));
    await this.limits.purgeStale(now);
  }
}
