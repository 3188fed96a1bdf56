import type { Db } from '../client';

/**
 * Statements built once per database handle, the one way queries here are prepared: drizzle
 * spends longer building a select (~150 µs) than PostgreSQL spends running it.
 */
export function preparedFor<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let statements = built.get(db);
    if (!statements) built.set(db, (statements = build(db)));
    return statements;
  };
}
