import type { Response } from 'express';
import { RateLimitedError, ValidationError } from '../lib/errors';

/**
 * Run a form action; on a validation error re-render the form with the input and field messages,
 * and on a rate limit (429 + Retry-After) with the message saying how long to wait.
 */
export async function handleForm(
  res: Response,
  view: string,
  locals: Record<string, unknown>,
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof ValidationError) && !(err instanceof RateLimitedError)) throw err;
    if (err.headers) res.set(err.headers);
    res.status(err.status).render(view, { ...locals, errors: err.fields ?? {}, message: err.message });
  }
}

/** Only same-site relative paths are followed after sign-in. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-/?=&.%]*$/.test(next) ? next : '/products';
}
