import type { Db } from '../db/client';
import * as q from '../db/queries/users.queries';
import { randomToken, sha256Hex } from '../lib/crypto';
import type { User } from './users.service';

/** How long a dashboard session lives without use; each use past its half slides it again. */
export const SESSION_LIFETIME_SECONDS = 30 * 86400;
const LIFETIME_MS = SESSION_LIFETIME_SECONDS * 1000;

/** Dashboard sessions in PostgreSQL: any app server serves any request; the cookie value is never stored. */
export class SessionsService {
  constructor(private readonly db: Db) {}

  /** Returns the cookie value; only its hash is stored. */
  async create(userId: string, now = new Date()): Promise<string> {
    const token = randomToken(32);
    await q.insertSession(this.db, sha256Hex(token), userId, new Date(now.getTime() + LIFETIME_MS));
    return token;
  }

  async resolve(token: string, now = new Date()): Promise<User | null> {
    const idHash = sha256Hex(token);
    const found = await q.findSessionUser(this.db, idHash, now);
    if (!found) return null;
    // Slide the expiry only when half of it is used, so page loads rarely write.
    if (found.expiresAt.getTime() - now.getTime() < LIFETIME_MS / 2) {
      await q.extendSession(this.db, idHash, new Date(now.getTime() + LIFETIME_MS));
    }
    return { id: found.user.id, email: found.user.email };
  }

  async destroy(token: string): Promise<void> {
    await q.deleteSession(this.db, sha256Hex(token));
  }

  /** Expired sessions are only ever refused on read; this removes them. */
  purgeExpired(now = new Date()): Promise<void> {
    return q.deleteExpiredSessions(this.db, now);
  }
}
