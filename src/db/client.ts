import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { openPglite, type PgliteOptions } from './pglite-client';
import * as schema from './schema';
import { withDeadline, withQueryTimeouts } from './query-timeout';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** The embedded database this process owns (the server serves it to local tools). */
  readonly pglite?: PGlite;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
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
    close: () => holder.current.end({ timeout: 5 }),
  };
}
