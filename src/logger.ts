import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

// A driver's error, or drizzle's wrapper of one (its message embeds the statement's parameters).
const DATABASE_ERRORS = new Set(['DrizzleQueryError', 'PostgresError', 'DatabaseError']);
const SQLSTATE = /^[0-9A-Z]{5}$/;
const PARAMS = /\nparams: [\s\S]*$/;

const scrub = (text: string) => text.replace(PARAMS, '\nparams: [not logged]');

/**
 * What of an error may be logged. Query parameters never (password and API-key hashes, codes):
 * a database error is logged by its class, SQLSTATE, table, constraint and statement text; its
 * message only where PostgreSQL words it without the values (not class 22, data exceptions).
 */
export function loggableError(err: unknown, depth = 0): unknown {
  if (typeof err === 'string') return scrub(err);
  if (!(err instanceof Error)) return { type: typeof err, message: scrub(String(err)) };
  const e = err as Error & Record<string, unknown>;
  const cause = e.cause !== undefined && depth < 4 ? loggableError(e.cause, depth + 1) : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const drizzle = 'query' in e && 'params' in e; // DrizzleQueryError, whatever its name says
  if (drizzle || DATABASE_ERRORS.has(e.name) || (code && SQLSTATE.test(code) && ('severity' in e || 'routine' in e))) {
    const query = typeof e.query === 'string' ? e.query.slice(0, 500) : undefined;
    return {
      type: drizzle ? 'DrizzleQueryError' : e.name,
      code,
      ...(code && !code.startsWith('22') && !drizzle ? { message: e.message } : {}),
      table: e.table_name ?? e.table,
      constraint: e.constraint_name ?? e.constraint,
      routine: e.routine,
      query,
      cause,
    };
  }
  return { type: e.name, message: scrub(e.message), code, stack: e.stack ? scrub(e.stack) : undefined, cause };
}

/** One structured logger; secrets are redacted wherever they might appear. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: loggableError, error: loggableError },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'password',
          '*.password',
          'license',
          '*.license',
          'token',
          '*.token',
          'apiKey',
          '*.apiKey',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
