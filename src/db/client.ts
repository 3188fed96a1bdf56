import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Db as IDatabase } from 'pg-boss' with { 'resolution-mode': 'import' };
import type { Sql } from 'postgres';
import type { Config } from '../config';
import { DatabaseUnavailableError } from '../lib/errors';
import type { Logger } from '../logger';
import { openPglite, type PgliteOptions } from './pglite-client';
import * as schema from './schema';
import { withDeadline, withQueryTimeouts } from './query-timeout';

// How long a starting server waits for another's migrations or job-queue install.
const EXCLUSIVE_WAIT_MS = 120_000;

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  /**
   * The same database through connections whose commits do not wait for the WAL flush
   * (synchronous_commit off): download counters only, where a flush per download (~4 ms here)
   * would cap one code at ~250 downloads a second. A PostgreSQL crash may lose the last fraction
   * of a second of counts, never their exactness under concurrency. On PGlite: `db`.
   */
  readonly counterDb: Db;
  readonly kind: 'pglite' | 'postgres';
  /** The embedded database this process owns (the server serves it to local tools). */
  readonly pglite?: PGlite;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  /** The same database as the job queue (pg-boss) talks to it: raw SQL, multi-statement scripts included. */
  jobsDb(): Promise<IDatabase>;
  /**
   * Messages other app servers publish with notify() (PostgreSQL LISTEN/NOTIFY). `onConnected`
   * runs at every (re)connection: messages sent while disconnected are lost, the caller catches
   * up. On PGlite (one process) there is nothing to hear: the process that writes is the only reader.
   */
  listen(channel: string, onMessage: (payload: string) => void, onConnected: () => void): void;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Run fn while holding a session-level advisory lock, so app servers starting together take
   * turns. A transaction-scoped lock is not enough for DDL that checks "if not exists": a backend
   * that waited on it still reads the catalog as it was when its transaction began.
   */
  exclusively<T>(key: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite under dataDir when no DATABASE_URL is set (see pglite-client.ts); postgres.js otherwise. */
export async function openDatabase(config: Config['database'], logger: Logger, pglite: PgliteOptions = { role: 'server' }): Promise<Database> {
  if (!config.url) return openPglite(config.pglitePath, logger, pglite);
  return openPostgres(config, logger);
}

async function openPostgres(config: Config['database'], logger: Logger): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const connect = (max = config.poolMax, synchronousCommit = true) =>
    postgres(config.url as string, {
      max,
      // `read-write` picks standbys on PostgreSQL 14+; `primary` is what we mean.
      target_session_attrs: 'primary',
      connect_timeout: Math.max(1, Math.min(2, Math.ceil(config.queryTimeoutMs / 1000))),
      idle_timeout: 30,
      // postgres.js waits 3^n/100 s (up to 20 s) after the pool's n-th failed connect, n shared by
      // every connection: after a failover that left writes waiting ~10 s for a primary that was up.
      backoff: (retries: number) => Math.min(0.5, 0.05 * 2 ** retries) * (0.5 + Math.random() / 2),
      max_lifetime: 60 * 30,
      onnotice: () => undefined,
      connection: { statement_timeout: config.queryTimeoutMs, application_name: 'wharf', ...(synchronousCommit ? {} : { synchronous_commit: 'off' }) },
    });
  const safeUrl = (config.url as string).replace(/\/\/[^@/]*@/, '//***@');
  logger.info({ url: safeUrl }, 'database: PostgreSQL');

  // postgres.js can leave a pool wedged after a failover (a query that never got a connection
  // keeps its slot); when statements get no answer at all, start a fresh pool and drop the old
  // one without letting its queued statements run later.
  const listeners: { channel: string; onMessage: (payload: string) => void; onConnected: () => void }[] = [];
  const subscribe = (sql: ReturnType<typeof connect>, l: (typeof listeners)[number]) =>
    void sql.listen(l.channel, l.onMessage, l.onConnected).catch((err: unknown) => logger.warn({ err }, 'database: could not listen'));
  const pool = (open: () => ReturnType<typeof connect>, withListeners = false) => {
    let lastSwap = 0;
    const holder = {
      current: open(),
      stuck() {
        if (Date.now() - lastSwap < 2000) return;
        lastSwap = Date.now();
        const old = holder.current;
        holder.current = open();
        logger.warn('database: no answer from the pool; replaced it');
        // The listening connection belongs to the pool: it moves with it.
        if (withListeners) for (const l of listeners) subscribe(holder.current, l);
        void old.end({ timeout: 0 }).catch(() => undefined);
      },
    };
    return holder;
  };
  const holder = pool(() => connect(), true);
  const counters = pool(() => connect(config.poolMax, false));
  const deadline = config.queryTimeoutMs + 1000;
  const db = drizzle(withQueryTimeouts(holder, deadline), { schema }) as unknown as Db;
  const counterDb = drizzle(withQueryTimeouts(counters, deadline), { schema }) as unknown as Db;
  return {
    db,
    counterDb,
    kind: 'postgres',
    listen: (channel, onMessage, onConnected) => {
      const l = { channel, onMessage, onConnected };
      listeners.push(l);
      subscribe(holder.current, l);
    },
    notify: async (channel, payload) => {
      await withDeadline(Promise.resolve(holder.current.notify(channel, payload)), deadline, () => holder.stuck());
    },
    // Readiness wants the truth now: no retries, our own deadline.
    ping: async () => {
      await withDeadline(Promise.resolve(holder.current.unsafe('select 1')), deadline, () => holder.stuck());
    },
    jobsDb: async () => postgresJobsDb(() => holder.current, deadline),
    exclusively: async (key, fn) => {
      const reserved = await withDeadline(holder.current.reserve(), deadline, () => holder.stuck());
      try {
        // Another server may hold it for as long as its own start takes, longer than statement_timeout:
        // a blocking pg_advisory_lock would be cancelled (57014), so ask again until it is free.
        const until = Date.now() + EXCLUSIVE_WAIT_MS;
        for (;;) {
          const [row] = await withDeadline(Promise.resolve(reserved`select pg_try_advisory_lock(${key}) as ok`), deadline);
          if (row?.ok) break;
          if (Date.now() > until) throw new DatabaseUnavailableError(`Another server held database lock ${key} for over ${EXCLUSIVE_WAIT_MS / 1000} s.`);
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 150));
        }
        try {
          return await fn();
        } finally {
          await reserved`select pg_advisory_unlock(${key})`.catch(() => undefined);
        }
      } finally {
        reserved.release();
      }
    },
    close: async () => {
      await Promise.all([holder.current.end({ timeout: 5 }), counters.current.end({ timeout: 5 })]);
    },
  };
}

/** Parameters as node-postgres (pg-boss's default driver) sends them: dates as ISO text, objects as JSON. */
function asParameter(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v) || Array.isArray(v)) return v;
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/**
 * pg-boss over postgres.js: parameterised statements run on the pool; a script without parameters
 * (pg-boss's own BEGIN … COMMIT blocks) runs whole on one reserved connection, with the simple protocol.
 */
function postgresJobsDb(current: () => Sql, deadlineMs: number): IDatabase {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (values?.length) {
        const rows = await withDeadline(Promise.resolve(current().unsafe(text, values.map(asParameter) as never[])), deadlineMs);
        return { rows: [...rows] };
      }
      const reserved = await withDeadline(current().reserve(), deadlineMs);
      try {
        const result = (await withDeadline(Promise.resolve(reserved.unsafe(text).simple()), deadlineMs)) as unknown[];
        // A multi-statement script answers one result per statement; keep every row (a RETURNING may sit before COMMIT).
        const rows = result.some((r) => Array.isArray(r)) ? result.flatMap((r) => (Array.isArray(r) ? [...r] : [])) : [...result];
        return { rows };
      } finally {
        reserved.release();
      }
    },
  };
}
