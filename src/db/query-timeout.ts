import type { Sql } from 'postgres';
import { UnavailableError } from '../lib/errors';

/** Race a promise against a deadline; postgres.js can wait forever when no host is acceptable. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new UnavailableError(`Database did not answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface Pending extends PromiseLike<unknown> {
  values(): PromiseLike<unknown>;
  cancel?(): void;
}

function timedQuery(query: Pending, ms: number) {
  const cancel = () => query.cancel?.();
  return {
    values: () => withDeadline(Promise.resolve(query.values()), ms, cancel),
    then: (ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) =>
      withDeadline(Promise.resolve(query), ms, cancel).then(ok, fail),
  };
}

/** Wrap the client drizzle talks to so every statement and transaction has our own deadline. */
export function withQueryTimeouts(client: Sql, ms: number): Sql {
  const wrap = (target: any, txBudget: number): any =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        if (prop === 'unsafe') {
          return (q: string, params?: unknown[], opts?: unknown) => timedQuery(obj.unsafe(q, params, opts), ms);
        }
        if (prop === 'begin' || prop === 'savepoint') {
          return (fn: (tx: unknown) => Promise<unknown>) =>
            withDeadline(Promise.resolve(obj[prop]((tx: unknown) => fn(wrap(tx, txBudget)))), txBudget);
        }
        return Reflect.get(obj, prop, receiver);
      },
    });
  // A transaction may run several statements; give it a few statement budgets.
  return wrap(client, ms * 4);
}
