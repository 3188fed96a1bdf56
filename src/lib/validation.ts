import { z } from 'zod';
import { ValidationError, type FieldErrors } from './errors';

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

// C0 controls and DEL; tab is always fine, CR and LF only in multi-line fields.
const CONTROL_SINGLE = /[\u0000-\u0008\u000A-\u001F\u007F]/;
const CONTROL_MULTI = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Why a string cannot be stored as text, or null when it can. */
export function controlCharProblem(v: string, multiline = false): string | null {
  const m = (multiline ? CONTROL_MULTI : CONTROL_SINGLE).exec(v);
  if (!m) return null;
  const c = m[0].charCodeAt(0);
  if (c === 0x0a || c === 0x0d) return 'Use a single line (no line breaks).';
  return `Remove the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}; only printable text is accepted.`;
}

/**
 * The guard for the few values read outside a zod schema: every named value that is a string
 * must be printable text, else a ValidationError names each offending field.
 */
export function assertPlainText(values: Record<string, unknown>, multiline: readonly string[] = []): void {
  const fields: FieldErrors = {};
  for (const [name, v] of Object.entries(values)) {
    const problem = typeof v === 'string' ? controlCharProblem(v, multiline.includes(name)) : null;
    if (problem) fields[name] = problem;
  }
  if (Object.keys(fields).length) throw new ValidationError('Please correct the highlighted fields.', fields);
}

/** Text as typed by a person: refuses control characters (see controlCharProblem) before anything else. */
export const plainText = ({ multiline = false, error = 'Must be text.' }: { multiline?: boolean; error?: string } = {}) =>
  z.string({ error }).superRefine((v, ctx) => {
    const problem = controlCharProblem(v, multiline);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, continue: false });
  });

/** A required single-line field, trimmed. */
export const requiredText = (max: number, emptyMessage: string) =>
  plainText({ error: emptyMessage }).trim().min(1, emptyMessage).max(max, `Use at most ${max} characters.`);

/** Form fields arrive as strings; an empty string means "not given". */
export const optionalText = (max: number) =>
  plainText()
    .trim()
    .max(max, `Use at most ${max} characters.`)
    .optional()
    .transform((v) => (v ? v : null));

/** Markdown and other multi-line fields: newlines and tabs allowed, other controls not. */
export const multilineText = (max: number) => plainText({ multiline: true }).max(max, `Use at most ${max.toLocaleString('en-US')} characters.`);

export const optionalUrl = plainText()
  .trim()
  .max(2000, 'Use at most 2000 characters.')
  .optional()
  .transform((v) => (v ? v : null))
  .refine((v) => v === null || /^https?:\/\/[^\s]+$/i.test(v), 'Enter a full http:// or https:// address.');

export const emailAddress = plainText({ error: 'Enter a valid email address.' })
  .trim()
  .refine((v) => v.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'Enter a valid email address.');

/**
 * A whole number from a JSON number or a string of plain decimal digits ("12"): never " 5",
 * "5.0", "1e3", "0x10" or "+5", which Number() would all accept. Empty means `empty`.
 */
export const wholeNumber = <E extends number | null>(o: { min: number; max: number; message: string; empty: E }) =>
  z
    .union([z.number(), z.string(), z.null()], { error: o.message })
    .optional()
    .transform((v, ctx): number | E => {
      if (v === undefined || v === null || v === '') return o.empty;
      const n = typeof v === 'number' ? v : /^[0-9]{1,16}$/.test(v) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < o.min || n > o.max) {
        ctx.addIssue({ code: 'custom', message: o.message });
        return z.NEVER;
      }
      return n;
    });

export const MIN_DAY = '2000-01-01';
export const MAX_DAY = '2100-12-31';

/** A calendar day written YYYY-MM-DD between 2000-01-01 and 2100-12-31; empty means none. */
export const optionalDay = z
  .union([z.string(), z.null()], { error: 'Enter a date as YYYY-MM-DD.' })
  .optional()
  .transform((v, ctx): string | null => {
    if (v === undefined || v === null || v === '') return null;
    const at = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Number.NaN;
    const valid = !Number.isNaN(at) && new Date(at).toISOString().startsWith(v);
    if (!valid) {
      ctx.addIssue({ code: 'custom', message: 'Enter a date as YYYY-MM-DD.' });
      return z.NEVER;
    }
    if (v < MIN_DAY || v > MAX_DAY) {
      ctx.addIssue({ code: 'custom', message: `Enter a date from ${MIN_DAY} to ${MAX_DAY}.` });
      return z.NEVER;
    }
    return v;
  });

export const uuidString = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && uuidString.safeParse(v).success;
}
