import { parse, serialize, type SerializeOptions } from 'cookie';
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'wharf_session';
export const ANON_COOKIE = 'wharf_anon';

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  return parse(header)[name];
}

/** HttpOnly, SameSite=Lax always; Secure whenever the request came over TLS (directly or via nginx). */
export function setCookie(req: Request, res: Response, name: string, value: string, maxAgeSeconds: number): void {
  const opts: SerializeOptions = { httpOnly: true, sameSite: 'lax', path: '/', secure: req.secure, maxAge: maxAgeSeconds };
  res.append('Set-Cookie', serialize(name, value, opts));
}

export function clearCookie(req: Request, res: Response, name: string): void {
  res.append('Set-Cookie', serialize(name, '', { httpOnly: true, sameSite: 'lax', path: '/', secure: req.secure, maxAge: 0 }));
}
