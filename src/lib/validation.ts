import { z } from 'zod';
import { ValidationError } from './errors';

/** Parse input with a zod schema; failures become a ValidationError with a message per field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, message = 'Please correct the highlighted fields.'): z.output<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fields: Record<string, string> = {};
  for (const issue of r.error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    fields[key] ??= issue.message;
  }
  throw new ValidationError(message, fields);
}

/** Form fields arrive as strings; an empty string means "not given". */
export const optionalText = (max: number) =>
  z
    .string({ error: 'Must be text.' })
    .trim()
    .max(max, `Use at most ${max} characters.`)
    .optional()
    .transform((v) => (v ? v : null));

export const optionalUrl = z
  .string({ error: 'Must be text.' })
  .trim()
  .max(2000, 'Use at most 2000 characters.')
  .optional()
  .transform((v) => (v ? v : null))
  .refine((v) => v === null || /^https?:\/\/[^\s]+$/i.test(v), 'Enter a full http:// or https:// address.');

export const uuidString = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && uuidString.safeParse(v).success;
}
