import fs from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Db as IDatabase } from 'pg-boss' with { 'resolution-mode': 'import' };
import type { Sql } from 'postgres';
import type { Config } from '../config';
import type { Logger } from '../logger';
import * as schema from './schema';
import { withDeadline, withQueryTimeouts } from './query-timeout';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  /** The same database as the job queue (pg-boss) talks to it: raw SQL, multi-statement scripts included. */
  jobsDb(): Promise<IDatabase>;
  close(): Promise<void>;
}

/** PGlite under dataDir when no DATABASE_URL is set; postgres.js otherwise. */
export async function openDatabase(config: Config['database'], logger: Logger): Promise<Database> {
  if (!config.url) return openPglite(config.pglitePath, logger);
  return openPostgres(config, logger);
}

async function openPglite(dir: string, logger: Logger): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  if (dir !== 'memory://') fs.mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir === 'memory://' ? undefined : dir);
  logger.info({ dir }, 'database: embedded PGlite');
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    jobsDb: async () => (await import('pg-boss')).fromPglite(client),
    close: () => client.close(),
  };
}

async function openPostgres(config: Config['database'], logger: Logger): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const connect = () =>
    postgres(config.url as string, {
      max: config.poolMax,
      // `read-write` picks standbys on PostgreSQL 14+; `primary` is what we mean.
      target_session_attrs: 'primary',
      connect_timeout: Math.max(1, Math.min(2, Math.ceil(config.queryTimeoutMs / 1000))),
      idle_timeout: 30,
      // postgres.js waits 3^n/100 s (up to 20 s) after the pool's n-th failed connect, n shared by
      // every connection: after a failover that left writes waiting ~10 s for a primary that was up.
      backoff: (retries: number) => Math.min(0.5, 0.05 * 2 ** retries) * (0.5 + Math.random() / 2),
      max_lifetime: 60 * 30,
      onnotice: () => undefined,
      connection: { statement_timeout: config.queryTimeoutMs, application_name: 'wharf' },
    });
  const safeUrl = (config.url as string).replace(/\/\/[^@/]*@/, '//***@');
  logger.info({ url: safeUrl }, 'database: PostgreSQL');

  // postgres.js can leave a pool wedged after a failover (a query that never got a connection
  // keeps its slot); when statements get no answer at all, start a fresh pool and drop the old
  // one without letting its queued statements run later.
  let lastSwap = 0;
  const holder = {
    current: connect(),
    stuck() {
      if (Date.now() - lastSwap < 2000) return;
      lastSwap = Date.now();
      const old = holder.current;
      holder.current = connect();
      logger.warn('database: no answer from the pool; replaced it');
      void old.end({ timeout: 0 }).catch(() => undefined);
    },
  };
  const deadline = config.queryTimeoutMs + 1000;
  const db = drizzle(withQueryTimeouts(holder, deadline), { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    // Readiness wants the truth now: no retries, our own deadline.
    ping: async () => {
      await withDeadline(Promise.resolve(holder.current.unsafe('select 1')), deadline, () => holder.stuck());
    },
    jobsDb: async () => postgresJobsDb(() => holder.current, deadline),
    close: () => holder.current.end({ timeout: 5 }),
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
