import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite' with { 'resolution-mode': 'import' };
// Required, not import()ed: the schema already loads drizzle's CommonJS build, and a second (ESM)
// copy costs each CLI run seconds of CPU.
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { createPrivateDir, makePrivate } from '../data-dir';
import type { Logger } from '../logger';
import { acquireDataDirLock, DataDirLockedError, lockOwner } from './data-dir-lock';
import { UNIX_PATH_MAX } from './pglite-server';
import type { Database, Db } from './client';
import * as schema from './schema';

/** Where the embedded database, its lock and its socket live (all inside DATA_DIR). */
export function embeddedPaths(pglitePath: string): { dir: string; lock: string; socket: string } {
  // `.s.PGSQL.5432` in DATA_DIR: what `psql -h DATA_DIR -U postgres` looks for.
  return { dir: pglitePath, lock: `${pglitePath}.lock`, socket: path.join(path.dirname(pglitePath), '.s.PGSQL.5432') };
}

export interface PgliteOptions {
  /** Named in the lock, and so in the error a second opener gets: `server`, `wharf migrate`… */
  role: string;
  /** When the running server owns the directory, go through its socket instead of failing. */
  viaServer?: boolean;
}

export const EMBEDDED_SHARED_BUFFERS = '16MB';

/** PGlite under `dir`, owned by this process (lock); or, for local tools, the running server's. */
export async function openPglite(dir: string, logger: Logger, opts: PgliteOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dir === 'memory://') return wrap(await PGlite.create(), () => undefined);
  const paths = embeddedPaths(dir);
  createPrivateDir(path.dirname(dir));
  let lock;
  try {
    lock = await acquireDataDirLock(paths.lock, dir, opts.role);
  } catch (err) {
    if (err instanceof DataDirLockedError && opts.viaServer && err.holder.role === 'server') return throughServer(paths, err, logger);
    throw err;
  }
  try {
    createPrivateDir(dir);
    // 16 MB of shared buffers, not PostgreSQL's 128 MB: the embedded database is a laptop's, and each
    // start touches every buffer page (half a second of CPU at 128 MB).
    const client = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`] });
    makePrivate(dir);
    logger.info({ dir }, 'database: embedded PGlite');
    return wrap(client, () => {
      makePrivate(dir); // files PGlite (re)wrote while it ran, e.g. pg_internal.init
      lock.release();
    });
  } catch (err) {
    lock.release();
    throw err;
  }
}

function wrap(client: PGlite, afterClose: () => void): Database {
  // PGlite itself is import()ed (it loads its WebAssembly that way); drizzle's types name the CommonJS build.
  const db = drizzlePglite(client as never, { schema }) as unknown as Db;
  return {
    db,
    counterDb: db,
    kind: 'pglite',
    pglite: client,
    // One process: every write is made here, so every write is heard.
    listen: (_channel, _onMessage, onConnected) => onConnected(),
    notify: async () => undefined,
    // One process owns the data directory: nothing to take turns with.
    exclusively: (_key, fn) => fn(),
    ping: async () => {
      await client.query('select 1');
    },
    jobsDb: async () => (await import('pg-boss')).fromPglite(client),
    close: async () => {
      await client.close();
      afterClose();
    },
  };
}

/** postgres.js over the server's unix socket: one connection, unnamed statements, no session settings. */
async function throughServer(paths: { dir: string; socket: string; lock: string }, locked: DataDirLockedError, logger: Logger): Promise<Database> {
  if (Buffer.byteLength(paths.socket) > UNIX_PATH_MAX) {
    throw new Error(`${locked.message}\nIts socket ${paths.socket} would be longer than a unix socket path may be (${UNIX_PATH_MAX} bytes), so that server serves no local tools: stop it to run this command, or use a shorter DATA_DIR.`);
  }
  // A server that is still starting has the lock but no socket yet.
  const until = Date.now() + 60_000;
  while (!fs.existsSync(paths.socket) && lockOwner(paths.lock)?.pid === locked.holder.pid && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The session is the server's too: no prepared statements or settings may outlive this client.
  const sql = postgres({ path: paths.socket, user: 'postgres', database: 'postgres', max: 1, prepare: false, connect_timeout: 10, onnotice: () => undefined });
  try {
    await sql`select 1`;
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => undefined);
    throw new Error(`${locked.message}\nIt could not be reached through its socket ${paths.socket}: ${(err as Error).message}`, { cause: err });
  }
  logger.info({ socket: paths.socket, pid: locked.holder.pid }, 'database: the running server’s embedded database, through its socket');
  const db = drizzlePostgres(sql, { schema }) as unknown as Db;
  return {
    db,
    counterDb: db,
    kind: 'pglite',
    // A local tool's writes (accounts, keys) are nothing the server's update-check caches hold.
    listen: (_channel, _onMessage, onConnected) => onConnected(),
    notify: async () => undefined,
    // One process owns the data directory: nothing to take turns with.
    exclusively: (_key, fn) => fn(),
    ping: async () => {
      await sql`select 1`;
    },
    jobsDb: () => Promise.reject(new Error('Background jobs run in the Wharf server, not in local tools.')),
    close: () => sql.end({ timeout: 5 }),
  };
}
