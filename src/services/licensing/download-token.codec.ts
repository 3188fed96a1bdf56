import { createHash, hash } from 'node:crypto';
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
const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{32}$/;
const BUCKET_SECONDS = 1800;

/**
 * Expiry rounded to a half-hour bucket, 30–60 minutes ahead: never more than an hour, and the
 * same token (so the same cached answer) for every check within the bucket.
 */
export function tokenExpiry(nowMs: number): number {
  return (Math.floor(nowMs / 1000 / BUCKET_SECONDS) + 2) * BUCKET_SECONDS;
}

/**
 * HMAC-SHA256 (RFC 2104) through two one-shot hashes: the same bytes as createHmac, without the
 * native Hmac object createHmac makes per call (measured ~10% of an update check's CPU under load).
 */
export class HmacSha256 {
  // Scratch space reused by every call (JavaScript runs one call at a time): ipad ‖ message, opad ‖ inner hash.
  private inner = Buffer.alloc(64 + 1024, 0x36);
  private readonly outer = Buffer.alloc(96, 0x5c);

  constructor(secret: string) {
    let key = Buffer.from(secret, 'utf8');
    if (key.length > 64) key = createHash('sha256').update(key).digest();
    for (let i = 0; i < key.length; i++) {
      this.inner[i]! ^= key[i]!;
      this.outer[i]! ^= key[i]!;
    }
  }

  /** The MAC of an ASCII message, base64url. */
  digest(message: string): string {
    if (64 + message.length > this.inner.length) {
      const bigger = Buffer.alloc(64 + message.length * 2);
      this.inner.copy(bigger, 0, 0, 64);
      this.inner = bigger;
    }
    const n = this.inner.write(message, 64, 'latin1');
    this.outer.write(hash('sha256', this.inner.subarray(0, 64 + n), 'binary'), 64, 'latin1');
    return hash('sha256', this.outer, 'base64url');
  }
}

export class DownloadTokens {
  private readonly mac: HmacSha256;
  private readonly scratch = Buffer.alloc(1024); // the claims' UTF-8 bytes, on their way to base64url

  constructor(secret: string) {
    this.mac = new HmacSha256(secret);
  }

  /** The payload is base64url, so the message is ASCII. */
  private sig(payload: string): string {
    return this.mac.digest(`download|${payload}`).slice(0, 32);
  }

  sign(c: DownloadClaims): string {
    const text = `${c.productId}|${c.versionId}|${c.codeId ?? ''}|${c.host ?? ''}|${c.exp}`;
    const payload = text.length * 3 <= this.scratch.length ? this.scratch.toString('base64url', 0, this.scratch.write(text)) : Buffer.from(text).toString('base64url');
    return `${payload}.${this.sig(payload)}`;
  }

  /** Claims, or the reason the token is refused. Only the canonical spelling `sign` makes is accepted. */
  verify(token: string, nowMs = Date.now()): DownloadClaims | { error: 'invalid_token' | 'token_expired' } {
    // ASCII base64url only: the MAC reads the payload as latin1, where other characters alias ASCII ones.
    if (token.length > 1000 || !TOKEN.test(token)) return { error: 'invalid_token' };
    const dot = token.indexOf('.');
    const payload = token.slice(0, dot);
    if (!safeEqual(token.slice(dot + 1), this.sig(payload))) return { error: 'invalid_token' };
    const bytes = Buffer.from(payload, 'base64url');
    // Non-zero trailing bits decode to the same bytes: one spelling per token.
    if (bytes.toString('base64url') !== payload) return { error: 'invalid_token' };
    const parts = bytes.toString('utf8').split('|');
    if (parts.length !== 5) return { error: 'invalid_token' };
    const [productId, versionId, codeId, host, exp] = parts as [string, string, string, string, string];
    const expNum = Number(exp);
    if (!Number.isInteger(expNum)) return { error: 'invalid_token' };
    if (expNum * 1000 <= nowMs || expNum * 1000 - nowMs > (MAX_LIFETIME_SECONDS + 60) * 1000) return { error: 'token_expired' };
    return { productId, versionId, codeId: codeId || null, host: host || null, exp: expNum };
  }
}
