import { z } from 'zod';
import type { Db } from '../db/client';
import * as q from '../db/queries/users.queries';
import { sha256Hex, randomToken } from '../lib/crypto';
import { NotFoundError, UnauthorizedError, ValidationError } from '../lib/errors';
import { emailAddress, isUuid, optionalText, parseInput, plainText } from '../lib/validation';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';

export interface User {
  id: string;
  email: string;
}

function toUser(row: q.UserRow): User {
  return { id: row.id, email: row.email };
}

const signUpSchema = z.object({
  email: emailAddress,
  password: plainText({ error: 'Enter a password.' }),
});

const apiKeySchema = z.object({ name: optionalText(100).transform((v) => v ?? 'API key') });

/** Sign-up and CLI input: a valid email and a password strong enough (see passwords.ts). */
async function validateCredentials(email: unknown, password: unknown): Promise<{ email: string; password: string }> {
  const r = signUpSchema.safeParse({ email, password });
  const fields: Record<string, string> = {};
  if (!r.success) for (const i of r.error.issues) fields[String(i.path[0] ?? '_')] ??= i.message;
  if (!fields.password) {
    const problem = await passwordProblem(String(password), [typeof email === 'string' ? email.trim() : '', 'wharf']);
    if (problem) fields.password = problem;
  }
  if (!r.success || Object.keys(fields).length) throw new ValidationError('Please correct the highlighted fields.', fields);
  return r.data;
}

export class UsersService {
  constructor(private readonly db: Db) {}

  async signUp(email: unknown, password: unknown): Promise<User> {
    const creds = await validateCredentials(email, password);
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

  async createApiKey(userId: string, name: unknown): Promise<{ key: string; id: string; prefix: string; name: string }> {
    const label = parseInput(apiKeySchema, { name }).name;
    const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
    const key = `wharf_${prefix}_${randomToken(32)}`;
    const row = await q.insertApiKey(this.db, { userId, name: label, prefix, keyHash: sha256Hex(key) });
    return { key, id: row.id, prefix, name: label };
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

  /** Returns the revoked key's name. */
  async revokeApiKey(userId: string, keyId: string): Promise<string> {
    if (!isUuid(keyId)) throw new NotFoundError('No such API key');
    const name = await q.revokeApiKey(this.db, userId, keyId, new Date());
    if (name === null) throw new NotFoundError('No such API key');
    return name;
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
    const e = emailAddress.safeParse(email);
    if (!e.success) return null;
    const row = await q.insertProviderUser(this.db, e.data, provider, providerId);
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

