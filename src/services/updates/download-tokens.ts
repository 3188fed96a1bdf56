import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { safeEqual } from '../../lib/crypto';

export interface DownloadClaims {
  productId: string;
  versionId: string;
  codeId: string | null;
  host: string | null;
  /** Expiry, epoch seconds. */
  exp: number;
}

const MAX_LIFETIME_SECONDS = 3600;
const BUCKET_SECONDS = 1800;

/**
 * Expiry rounded to a half-hour bucket, 30–60 minutes ahead: never more than an hour, and the
 * same token (so the same cached answer) for every check within the bucket.
 */
export function tokenExpiry(nowMs: number): number {
  return (Math.floor(nowMs / 1000 / BUCKET_SECONDS) + 2) * BUCKET_SECONDS;
}

export class DownloadTokens {
  // Imported once: createHmac with a string key re-imports it on every call (half the signing cost).
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  private sig(payload: string): string {
    return createHmac('sha256', this.key).update(`download|${payload}`).digest('base64url').slice(0, 32);
  }

  sign(c: DownloadClaims): string {
    const payload = Buffer.from(`${c.productId}|${c.versionId}|${c.codeId ?? ''}|${c.host ?? ''}|${c.exp}`).toString('base64url');
    return `${payload}.${this.sig(payload)}`;
  }

  /** Claims, or the reason the token is refused. */
  verify(token: string, nowMs = Date.now()): DownloadClaims | { error: 'invalid_token' | 'token_expired' } {
    const dot = token.indexOf('.');
    if (dot < 1 || token.length > 1000) return { error: 'invalid_token' };
    const payload = token.slice(0, dot);
    if (!safeEqual(token.slice(dot + 1), this.sig(payload))) return { error: 'invalid_token' };
    const parts = Buffer.from(payload, 'base64url').toString('utf8').split('|');
    if (parts.length !== 5) return { error: 'invalid_token' };
    const [productId, versionId, codeId, host, exp] = parts as [string, string, string, string, string];
    const expNum = Number(exp);
    if (!Number.isInteger(expNum)) return { error: 'invalid_token' };
    if (expNum * 1000 <= nowMs || expNum * 1000 - nowMs > (MAX_LIFETIME_SECONDS + 60) * 1000) return { error: 'token_expired' };
    return { productId, versionId, codeId: codeId || null, host: host || null, exp: expNum };
  }
}
