import type { Response } from 'express';
import { ValidationError } from '../lib/errors';

/** Run a form action; on a validation error re-render the form with the input and field messages. */
export async function handleForm(
  res: Response,
  view: string,
  locals: Record<string, unknown>,
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    res.status(422).render(view, { ...locals, errors: err.fields ?? {}, message: err.message });
  }
}

/** Only same-site relative paths are followed after sign-in. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-/?=&.%]*$/.test(next) ? next : '/products';
}
