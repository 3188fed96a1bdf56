import type { Sql } from 'postgres';
import { DatabaseUnavailableError } from '../lib/errors';

/** Race a promise against a deadline; postgres.js can wait forever when no host is acceptable. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new DatabaseUnavailableError(`The database did not answer within ${ms} ms; try again in a few seconds.`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface Pending extends PromiseLike<unknown> {
  values(): PromiseLike<unknown>;
}

// Errors that prove the statement never ran (no server, a standby, not accepting yet): safe to retry.
const NEVER_RAN = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P03', '25006', '08001', '08004']);
const RETRY_WINDOW_MS = 10_000;

function neverRan(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return NEVER_RAN.has(e?.code ?? '') || NEVER_RAN.has(e?.cause?.code ?? '');
}

/** Retry with backoff across a failover, only when the database certainly did not run the work. */
export async function retryWhileFailingOver<T>(attempt: () => Promise<T>, windowMs = RETRY_WINDOW_MS): Promise<T> {
  const started = Date.now();
  for (let delay = 100; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await attempt();
    } catch (err) {
      if (!neverRan(err) || Date.now() - started + delay > windowMs) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The live pool; `stuck()` swaps it when a statement got no answer at all (see client.ts). */
export interface PoolHolder {
  readonly current: Sql;
  stuck(): void;
}

function timedQuery(run: () => Pending, ms: number, retry: boolean, onStuck: () => void) {
  const once = (values: boolean) => () => {
    const query = run();
    return withDeadline(Promise.resolve(values ? query.values() : query), ms, onStuck);
  };
  const go = (values: boolean) => (retry ? retryWhileFailingOver(once(values)) : once(values)());
  return {
    values: () => go(true),
    then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => go(false).then(ok, fail),
  };
}

/**
 * What drizzle talks to: every statement and transaction gets our own deadline, work that could
 * not reach the primary is retried, and a pool whose statements get no answer is replaced.
 * The deadline is a little longer than the server's statement_timeout, so hitting it means the
 * connection, not the query, is stuck.
 */
export function withQueryTimeouts(holder: PoolHolder, ms: number): Sql {
  const stuck = () => holder.stuck();
  const wrap = (target: () => any, inTransaction: boolean): any =>
    new Proxy(target(), {
      get(_obj, prop) {
        const obj = target();
        if (prop === 'unsafe') {
          return (q: string, params?: unknown[], opts?: unknown) => timedQuery(() => obj.unsafe(q, params, opts), ms, !inTransaction, stuck);
        }
        if (prop === 'begin' || prop === 'savepoint') {
          // A transaction may run several statements; give it a few statement budgets.
          const run = (fn: (tx: unknown) => Promise<unknown>) => () =>
            withDeadline(Promise.resolve(target()[prop]((tx: unknown) => fn(wrap(() => tx, true)))), ms * 4, stuck);
          return (fn: (tx: unknown) => Promise<unknown>) => (inTransaction ? run(fn)() : retryWhileFailingOver(run(fn)));
        }
        const value = Reflect.get(obj, prop);
        return typeof value === 'function' ? value.bind(obj) : value;
      },
    });
  return wrap(() => holder.current, false);
}
