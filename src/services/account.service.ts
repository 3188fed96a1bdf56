import type { Mailer } from '../adapters/mail/mailer';
import type { Storage } from '../adapters/storage/storage';
import type { Db } from '../db/client';
import * as aq from '../db/queries/accounts.queries';
import * as uq from '../db/queries/users.queries';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { emailAddress } from '../lib/validation';
import type { Logger } from '../logger';
import { networkOf } from './auth.service';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';
import type { ProductsService } from './products.service';
import type { SharedRateLimiter } from './rate-limits';
import type { SessionsService } from './sessions.service';

/** Every account rule in one place (README "The vendor dashboard" states them). */
export const ACCOUNT_RULES = {
  /** A reset link works once, for this long; a newer one replaces it. */
  resetLifetimeMs: 60 * 60_000,
  /** An address-change link, likewise. */
  emailChangeLifetimeMs: 24 * 60 * 60_000,
  /** Reset requests per client network (each sends mail). */
  resetsPerNetwork: { limit: 10, windowMs: 15 * 60_000 },
} as const;

/** Same words whether or not the address has an account: the form reveals nothing. */
export const RESET_REQUESTED = 'If an account uses that address, a link to choose a new password is on its way. It works once, for one hour.';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * The vendor's own account: forgotten and changed passwords, the e-mail address, linked providers,
 * deleting it all. Knows nothing of HTTP; links are built from the public URL.
 */
export class AccountService {
  constructor(
    private readonly db: Db,
    private readonly storage: Storage,
    private readonly products: ProductsService,
    private readonly sessions: SessionsService,
    private readonly limits: SharedRateLimiter,
    private readonly mailer: Mailer,
    private readonly publicUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Always resolves the same way; mails a link only when the address has an account. */
  async requestPasswordReset(email: unknown, ip: string | undefined, now = new Date()): Promise<void> {
    await this.limits.hit(`reset:ip:${networkOf(ip)}`, ACCOUNT_RULES.resetsPerNetwork, now, 'Too many reset requests from your network. Try again later.');
    const parsed = emailAddress.safeParse(email);
    if (!parsed.success) throw new ValidationError('Please correct the highlighted fields.', { email: 'Enter a valid email address.' });
    const user = await uq.findUserByEmail(this.db, parsed.data);
    if (!user) return;
    const token = randomToken(32);
    await aq.replaceToken(this.db, { userId: user.id, purpose: 'password_reset', tokenHash: sha256Hex(token), expiresAt: new Date(now.getTime() + ACCOUNT_RULES.resetLifetimeMs) });
    // Not awaited: an SMTP round trip would make the answer for a known address measurably slower.
    void this.send(user.email, 'Choose a new Wharf password', [
      'Someone (hopefully you) asked to choose a new password for your Wharf account.',
      '',
      `Open this link within one hour to choose it (it works once):`,
      `${this.publicUrl}/password/reset?token=${token}`,
      '',
      'If you did not ask, ignore this message: your password stays as it is.',
    ]).catch((err: Error) => this.logger.error({ err: err.message }, 'mail: could not send a password reset'));
  }

  /** Whether a reset link is still good (the page says so before asking for a password). */
  async resetTokenValid(token: unknown, now = new Date()): Promise<boolean> {
    return Boolean(typeof token === 'string' && token.length < 200 && (await aq.findLiveToken(this.db, 'password_reset', sha256Hex(token), now)));
  }

  /** Sets the new password, signs the account out everywhere, and returns a fresh session token. */
  async resetPassword(token: unknown, password: unknown, now = new Date()): Promise<string> {
    const t = text(token);
    const pw = text(password);
    const live = t.length < 200 ? await aq.findLiveToken(this.db, 'password_reset', sha256Hex(t), now) : undefined;
    if (!live) throw new ValidationError('This link has expired or was already used. Ask for a new one.', {});
    const user = await uq.findUserById(this.db, live.userId);
    if (!user) throw new ValidationError('This link has expired or was already used. Ask for a new one.', {});
    const problem = await passwordProblem(pw, [user.email, 'wharf']);
    if (problem) throw new ValidationError('Please correct the highlighted fields.', { password: problem });
    // Taken only now, so a too-weak first try does not burn the link; taking it is what makes it single-use.
    if (!(await aq.takeToken(this.db, 'password_reset', sha256Hex(t), now))) throw new ValidationError('This link has expired or was already used. Ask for a new one.', {});
    await aq.setPasswordHash(this.db, user.id, await hashPassword(pw));
    await aq.deleteSessionsOf(this.db, user.id, null);
    return this.sessions.create(user.id, now);
  }

  /**
   * Change the password (the current one required) or, on an account made through GitHub or
   * BitBucket, set a first one. Every other session of the account is signed out.
   */
  async changePassword(userId: string, input: { current?: unknown; password?: unknown }, keepSessionToken: string | undefined): Promise<void> {
    const user = await this.user(userId);
    if (user.passwordHash && !(await verifyPassword(user.passwordHash, text(input.current)))) {
      throw new ValidationError('Please correct the highlighted fields.', { current: 'That is not your current password.' });
    }
    const problem = await passwordProblem(text(input.password), [user.email, 'wharf']);
    if (problem) throw new ValidationError('Please correct the highlighted fields.', { password: problem });
    await aq.setPasswordHash(this.db, user.id, await hashPassword(text(input.password)));
    await aq.deleteSessionsOf(this.db, user.id, keepSessionToken ? sha256Hex(keepSessionToken) : null);
  }

  /** Mails a confirmation link to the new address; the address changes only when it is opened. */
  async requestEmailChange(userId: string, input: { email?: unknown; current?: unknown }, now = new Date()): Promise<string> {
    const user = await this.user(userId);
    const parsed = emailAddress.safeParse(input.email);
    if (!parsed.success) throw new ValidationError('Please correct the highlighted fields.', { email: 'Enter a valid email address.' });
    const email = parsed.data;
    if (email.toLowerCase() === user.email.toLowerCase()) throw new ValidationError('Please correct the highlighted fields.', { email: 'That is already your address.' });
    if (user.passwordHash && !(await verifyPassword(user.passwordHash, text(input.current)))) {
      throw new ValidationError('Please correct the highlighted fields.', { current: 'That is not your current password.' });
    }
    if (await uq.findUserByEmail(this.db, email)) throw new ValidationError('Please correct the highlighted fields.', { email: 'Another account uses that address.' });
    const token = randomToken(32);
    await aq.replaceToken(this.db, { userId, purpose: 'email_change', tokenHash: sha256Hex(token), newEmail: email, expiresAt: new Date(now.getTime() + ACCOUNT_RULES.emailChangeLifetimeMs) });
    await this.send(email, 'Confirm your new Wharf address', [
      `Open this link to use ${email} for your Wharf account (instead of ${user.email}):`,
      `${this.publicUrl}/account/email/confirm?token=${token}`,
      '',
      'The link works once, for 24 hours. If you did not ask for this, ignore this message.',
    ]);
    return email;
  }

  /** Returns the new address. */
  async confirmEmailChange(token: unknown, now = new Date()): Promise<string> {
    const t = text(token);
    const row = t && t.length < 200 ? await aq.takeToken(this.db, 'email_change', sha256Hex(t), now) : undefined;
    if (!row?.newEmail) throw new NotFoundError('This confirmation link has expired or was already used. Change the address again from your account page.');
    if (!(await aq.setEmail(this.db, row.userId, row.newEmail))) throw new ConflictError('Another account took that address in the meantime.');
    return row.newEmail;
  }

  /** Refused when it would leave the account with no way to sign in. */
  async unlinkProvider(userId: string, provider: uq.OAuthProvider): Promise<void> {
    const user = await this.user(userId);
    const linked = provider === 'github' ? user.githubId : user.bitbucketId;
    if (!linked) throw new NotFoundError('That provider is not linked.');
    const other = provider === 'github' ? user.bitbucketId : user.githubId;
    if (!user.passwordHash && !other) throw new ConflictError('Set a password first: otherwise nothing would let you sign in.', 'last_sign_in_method');
    await aq.clearProvider(this.db, userId, provider);
  }

  /**
   * Deletes the account with everything of it: each product (versions, codes, sites, downloads,
   * check-ins cascade; its S3 objects), anything left under the vendor's S3 prefix, then the
   * account row (sessions, API keys, tokens, events cascade) and its sign-in throttles.
   */
  async deleteAccount(userId: string, typedEmail: unknown): Promise<void> {
    const user = await this.user(userId);
    if (text(typedEmail).trim().toLowerCase() !== user.email.toLowerCase()) {
      throw new ValidationError('Please correct the highlighted fields.', { confirmEmail: 'Type your email address exactly to confirm.' });
    }
    for (const p of await this.products.list(userId)) await this.products.delete(userId, p.id);
    const removed = await this.storage.deletePrefix(`vendors/${userId}/`);
    if (removed) this.logger.info({ userId, objects: removed }, 'account: removed leftover objects');
    await aq.deleteUser(this.db, userId, sha256Hex(user.email.trim().toLowerCase()));
  }

  async hasPassword(userId: string): Promise<boolean> {
    return Boolean((await this.user(userId)).passwordHash);
  }

  private async user(userId: string) {
    const u = await uq.findUserById(this.db, userId);
    if (!u) throw new NotFoundError('No such account');
    return u;
  }

  private async send(to: string, subject: string, lines: string[]): Promise<void> {
    await this.mailer.send({ to, subject, text: `${lines.join('\n')}\n\n— Wharf\n` });
  }
}
