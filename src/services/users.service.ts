import type { Db } from '../db/client';
import * as q from '../db/queries/users.queries';
import { sha256Hex, randomToken } from '../lib/crypto';
import { NotFoundError, UnauthorizedError, ValidationError } from '../lib/errors';
import { isUuid } from '../lib/validation';
import { hashPassword, verifyPassword } from './passwords';

export interface User {
  id: string;
  email: string;
}

const SESSION_DAYS = 30;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function toUser(row: q.UserRow): User {
  return { id: row.id, email: row.email };
}

export function validateCredentials(email: unknown, password: unknown): { email: string; password: string } {
  const fields: Record<string, string> = {};
  const e = typeof email === 'string' ? email.trim() : '';
  const p = typeof password === 'string' ? password : '';
  // Length first: EMAIL_RE backtracks quadratically on long runs of dots (100,000 characters: minutes).
  if (e.length > 254 || !EMAIL_RE.test(e)) fields.email = 'Enter a valid email address.';
  if (p.length < 10) fields.password = 'Use at least 10 characters.';
  else if (p.length > 256) fields.password = 'Use at most 256 characters.';
  if (Object.keys(fields).length) throw new ValidationError('Please correct the highlighted fields.', fields);
  return { email: e, password: p };
}

export class UsersService {
  constructor(private readonly db: Db) {}

  async signUp(email: unknown, password: unknown): Promise<User> {
    const creds = validateCredentials(email, password);
    const row = await q.insertUser(this.db, creds.email, await hashPassword(creds.password));
    if (!row) throw new ValidationError('That email is already registered.', { email: 'That email is already registered; sign in instead.' });
    return toUser(row);
  }

  async authenticate(email: string, password: string): Promise<User> {
    const row = await q.findUserByEmail(this.db, email.trim());
    const ok = await verifyPassword(row?.passwordHash ?? null, password);
    if (!row || !ok) throw new UnauthorizedError('Wrong email or password.');
    return toUser(row);
  }

  async findByEmail(email: string): Promise<User> {
    const row = await q.findUserByEmail(this.db, email);
    if (!row) throw new NotFoundError(`No user with email ${email}`);
    return toUser(row);
  }

  /** Returns the cookie value; only its hash is stored. */
  async createSession(userId: string, now = new Date()): Promise<string> {
    const token = randomToken(32);
    await q.insertSession(this.db, sha256Hex(token), userId, new Date(now.getTime() + SESSION_DAYS * 86400_000));
    return token;
  }

  async resolveSession(token: string, now = new Date()): Promise<User | null> {
    const idHash = sha256Hex(token);
    const found = await q.findSessionUser(this.db, idHash, now);
    if (!found) return null;
    // Slide the expiry only when half of it is used, so page loads rarely write.
    if (found.expiresAt.getTime() - now.getTime() < (SESSION_DAYS / 2) * 86400_000) {
      await q.extendSession(this.db, idHash, new Date(now.getTime() + SESSION_DAYS * 86400_000));
    }
    return toUser(found.user);
  }

  /** Expired sessions are only ever refused on read; this removes them. */
  purgeExpiredSessions(now = new Date()): Promise<void> {
    return q.deleteExpiredSessions(this.db, now);
  }

  async destroySession(token: string): Promise<void> {
    await q.deleteSession(this.db, sha256Hex(token));
  }

  async createApiKey(userId: string, name: string): Promise<{ key: string; id: string; prefix: string }> {
    const label = name.trim().slice(0, 100) || 'API key';
    const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
    const key = `wharf_${prefix}_${randomToken(32)}`;
    const row = await q.insertApiKey(this.db, { userId, name: label, prefix, keyHash: sha256Hex(key) });
    return { key, id: row.id, prefix };
  }

  async authenticateApiKey(key: string, now = new Date()): Promise<User | null> {
    if (!/^wharf_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{40,}$/.test(key)) return null;
    const found = await q.findApiKeyUser(this.db, sha256Hex(key));
    if (!found) return null;
    await q.touchApiKey(this.db, found.keyId, now);
    return toUser(found.user);
  }

  listApiKeys(userId: string) {
    return q.listApiKeys(this.db, userId);
  }

  async revokeApiKey(userId: string, keyId: string): Promise<void> {
    if (!isUuid(keyId)) throw new NotFoundError('No such API key');
    if (!(await q.revokeApiKey(this.db, userId, keyId, new Date()))) throw new NotFoundError('No such API key');
  }

  // Sign-in with GitHub / BitBucket: the rules that use these live in oauth.service.ts.

  async findByProvider(provider: q.OAuthProvider, providerId: string): Promise<User | null> {
    const row = await q.findUserByProvider(this.db, provider, providerId);
    return row ? toUser(row) : null;
  }

  async emailTaken(email: string): Promise<boolean> {
    return Boolean(await q.findUserByEmail(this.db, email.trim()));
  }

  /** True only for an existing account that has no password (created through a provider). */
  async isPasswordless(email: string): Promise<boolean> {
    const row = await q.findUserByEmail(this.db, email.trim());
    return Boolean(row && !row.passwordHash);
  }

  /** Null when the email is invalid or the email or provider id is already taken. */
  async createWithProvider(email: string, provider: q.OAuthProvider, providerId: string): Promise<User | null> {
    const e = email.trim();
    if (e.length > 254 || !EMAIL_RE.test(e)) return null;
    const row = await q.insertProviderUser(this.db, e, provider, providerId);
    return row ? toUser(row) : null;
  }

  linkProvider(userId: string, provider: q.OAuthProvider, providerId: string): Promise<boolean> {
    return q.setUserProvider(this.db, userId, provider, providerId);
  }

  async linkedProviders(userId: string): Promise<{ github: boolean; bitbucket: boolean }> {
    const row = await q.findUserById(this.db, userId);
    return { github: Boolean(row?.githubId), bitbucket: Boolean(row?.bitbucketId) };
  }
}

