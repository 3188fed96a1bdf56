import crypto from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { readCookie, setCookie, clearCookie } from './cookies';

/**
 * One-shot messages that survive a redirect (post/redirect/get) and show on the next rendered
 * page only: a reload, a shared link or the back button never repeat them. They ride in a short-lived
 * cookie sealed with AES-256-GCM under a key derived from SECRET_KEY and bound to the browser's session
 * (or its anonymous cookie), so nobody can forge one, read one (a new API key travels in it once), or
 * replay it into another session. Reading it clears it; JSON and file responses leave it alone.
 */
export const FLASH_COOKIE = 'wharf_flash';
const LIFETIME_SECONDS = 120;

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /** A secret shown once (a new API key); never logged, never stored. */
  secret?: string;
}

declare module 'express-serve-static-core' {
  interface Response {
    /** Shows `flash` on the next page this browser renders. */
    flash(flash: Flash): void;
  }
}

function keyOf(secret: string): Buffer {
  return crypto.hkdfSync('sha256', secret, 'wharf', 'flash-cookie', 32) as unknown as Buffer;
}

export function sealFlash(key: Buffer, binding: string, flash: Flash, now = Date.now()): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(key), iv);
  c.setAAD(Buffer.from(binding));
  const body = Buffer.concat([c.update(JSON.stringify({ ...flash, exp: now + LIFETIME_SECONDS * 1000 })), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

export function openFlash(key: Buffer, binding: string, sealed: string, now = Date.now()): Flash | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return null;
    const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(key), raw.subarray(0, 12));
    d.setAAD(Buffer.from(binding));
    d.setAuthTag(raw.subarray(12, 28));
    const v = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as Flash & { exp: number };
    if (typeof v.exp !== 'number' || v.exp < now || (v.kind !== 'ok' && v.kind !== 'error') || typeof v.text !== 'string') return null;
    return { kind: v.kind, text: v.text, ...(typeof v.secret === 'string' ? { secret: v.secret } : {}) };
  } catch {
    return null;
  }
}

/**
 * After loadSession: `res.flash()` seals a message for this browser, and every page rendered
 * (res.render) takes the pending one into its locals as `flash` and clears the cookie.
 * `req.binding` (set by loadSession, changed by beginSession/endSession) names the session the
 * message belongs to when it is written and when it is read.
 */
export function flashes(secret: string): RequestHandler {
  const key = keyOf(secret);
  return (req, res, next) => {
    let written = false;
    res.flash = (flash) => {
      written = true;
      setCookie(req, res, FLASH_COOKIE, sealFlash(key, req.binding ?? '', flash), LIFETIME_SECONDS);
    };
    type Done = (err: Error, html: string) => void;
    const render = res.render.bind(res) as (view: string, options?: object, cb?: Done) => void;
    res.render = ((view: string, options?: object | Done, cb?: Done) => {
      const sealed = readCookie(req, FLASH_COOKIE);
      let flash: Flash | null = null;
      if (sealed && !written) {
        flash = openFlash(key, req.binding ?? '', sealed);
        if (!res.headersSent) clearCookie(req, res, FLASH_COOKIE);
      }
      if (typeof options === 'function') return render(view, { flash }, options as Done);
      return render(view, { flash, ...(options ?? {}) }, cb);
    }) as Response['render'];
    next();
  };
}
