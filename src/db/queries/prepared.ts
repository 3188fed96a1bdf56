import type { SQL } from 'drizzle-orm';
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

interface Internals {
  session: { prepareQuery(query: unknown, fields: undefined, name: string, arrayMode: boolean): { execute(values?: Record<string, unknown>): Promise<unknown> } };
  dialect: { sqlToQuery(statement: SQL): unknown };
}

/**
 * A hand-written statement (parameters as sql.placeholder) prepared as the query builder's
 * .prepare(name) does: built once, and a named server-side statement, parsed and planned once per
 * connection (db.execute() sends an unnamed one, parsed again every time).
 */
export function prepareSql(db: Db, name: string, statement: SQL) {
  const d = db as unknown as Internals;
  return d.session.prepareQuery(d.dialect.sqlToQuery(statement), undefined, name, false);
}
