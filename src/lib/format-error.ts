import util from 'node:util';
import { loggableError } from '../logger';

/**
 * A failure as a person reads it: the message, then each cause (Error.cause, AggregateError.errors)
 * indented beneath. Anything thrown that is not an Error is shown with util.inspect, never as
 * "[object Object]".
 */
export function formatError(err: unknown, opts: { stack?: boolean } = {}): string {
  const lines: string[] = [];
  describe(err, '', '', new Set(), lines, opts.stack ?? false);
  return lines.join('\n');
}

// Properties that say what failed (postgres.js, node:net, zod fields…); the rest is noise. Never
// PostgreSQL's `detail`: it quotes row values (a purchase code, an e-mail).
const DETAILS = ['code', 'syscall', 'address', 'port', 'path', 'hint'];
// drizzle's query errors end their message with the statement's parameters (hashes, codes).
const PARAMS = /\nparams: [\s\S]*$/;
const MAX_DEPTH = 8;
const MAX_FRAMES = 8;

function describe(err: unknown, indent: string, label: string, seen: Set<unknown>, lines: string[], stack: boolean): void {
  if (typeof err === 'object' && err !== null) {
    if (seen.has(err)) {
      lines.push(`${indent}${label}(the same error again)`);
      return;
    }
    seen.add(err);
  }
  if (indent.length / 2 > MAX_DEPTH) {
    lines.push(`${indent}${label}…`);
    return;
  }
  if (!(err instanceof Error)) {
    lines.push(`${indent}${label}${typeof err === 'string' ? err : util.inspect(err, { depth: 4, breakLength: Infinity })}`);
    const cause = (err as { cause?: unknown } | null)?.cause;
    if (cause !== undefined) describe(cause, `${indent}  `, 'caused by: ', seen, lines, false);
    return;
  }
  const safe = loggableError(err) as Record<string, unknown>;
  if (safe.query !== undefined || safe.routine !== undefined) {
    // A database error: what the log says of it (statement, SQLSTATE, table), never its parameters or values.
    const where = [safe.code ? `code: ${String(safe.code)}` : '', safe.table ? `table: ${String(safe.table)}` : ''].filter(Boolean).join(', ');
    lines.push(`${indent}${label}${String(safe.type)}: ${String(safe.message ?? (safe.query ? `failed query: ${String(safe.query)}` : 'database error'))}${where ? ` (${where})` : ''}`);
    if (err.cause !== undefined) describe(err.cause, `${indent}  `, 'caused by: ', seen, lines, false);
    return;
  }
  lines.push(`${indent}${label}${headline(err)}`);
  const fields = (err as { fields?: unknown }).fields;
  if (fields && typeof fields === 'object') {
    for (const [k, v] of Object.entries(fields)) lines.push(`${indent}  ${k}: ${String(v)}`);
  }
  if (stack && err.stack) {
    const frames = err.stack.split('\n').filter((l) => /^\s+at /.test(l));
    for (const frame of frames.slice(0, MAX_FRAMES)) lines.push(`${indent}  ${frame.trim()}`);
  }
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    errors.forEach((e, i) => describe(e, `${indent}  `, `[${i + 1}/${errors.length}] `, seen, lines, false));
  }
  if (err.cause !== undefined) describe(err.cause, `${indent}  `, 'caused by: ', seen, lines, false);
}

function headline(err: Error): string {
  const message = (err.message || err.name || 'Error').replace(PARAMS, '\nparams: [not shown]');
  const name = err.message && err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  const record = err as unknown as Record<string, unknown>;
  const details = DETAILS.filter((k) => record[k] !== undefined && record[k] !== null && record[k] !== '' && !message.includes(String(record[k])))
    // System and SQLSTATE codes (ECONNREFUSED, 42P01); our own HTTP error codes say nothing more here.
    .filter((k) => k !== 'code' || /^[A-Z0-9_]+$/.test(String(record[k])))
    .map((k) => `${k}: ${typeof record[k] === 'object' ? util.inspect(record[k], { breakLength: Infinity }) : String(record[k])}`);
  return `${name}${message}${details.length ? ` (${details.join(', ')})` : ''}`;
}
