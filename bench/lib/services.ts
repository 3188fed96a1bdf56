import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import postgres from 'postgres';
import { freePort, sleep, stopChild, track } from './procs';

export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MEMCACHED_BIN = '/usr/bin/memcached';

export interface ThrowawayDatabase {
  url: string;
  name: string;
  /** A small client for the few writes the API cannot make (backdating a release). */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/** A fresh database on the local PostgreSQL server, dropped (with force) at the end. */
export async function createDatabase(): Promise<ThrowawayDatabase> {
  const name = `wharf_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    throw new Error(`PostgreSQL not reachable at ${POSTGRES_ADMIN_URL} (set BENCH_POSTGRES_URL): ${(err as Error).message}`);
  } finally {
    await admin.end();
  }
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  return {
    url,
    name,
    sql,
    drop: async () => {
      await sql.end({ timeout: 2 }).catch(() => undefined);
      const a = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export interface Memcached {
  port: number;
  stop(): Promise<void>;
}

/** Real memcached on a free loopback port, or null when the binary is missing. */
export async function startMemcached(): Promise<Memcached | null> {
  try {
    fs.accessSync(MEMCACHED_BIN, fs.constants.X_OK);
  } catch {
    return null;
  }
  const port = await freePort();
  const args = ['-l', '127.0.0.1', '-p', String(port), '-m', '256', '-U', '0']; // the mixed scenario keeps 100,000 codes
  if (process.getuid?.() === 0) args.unshift('-u', 'nobody'); // memcached refuses to run as root
  const child: ChildProcess = track(spawn(MEMCACHED_BIN, args, { stdio: 'ignore' }));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (await answersVersion(port)) return { port, stop: () => stopChild(child, 3000) };
    if (child.exitCode !== null) break;
    await sleep(30);
  }
  await stopChild(child, 1000);
  return null;
}

function answersVersion(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('version\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('VERSION')));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
