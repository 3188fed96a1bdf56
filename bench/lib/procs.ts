import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** Every process the bench started, so an early exit (error, Ctrl-C) still stops them all. */
const children = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM (then SIGKILL after graceMs) and wait for the exit. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(1000, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls until the URL answers 200, the process dies, or the deadline passes. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered\n${describe()}`);
    if ((await httpStatus(url)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms\n${describe()}`);
}

/** A compiled bench helper (dist/bench/<name>.js) as a child with an IPC channel; resolves with its first message. */
export async function forkHelper<T>(script: string, args: string[] = [], execArgv: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const child = track(fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }));
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

/** Sends one message and resolves with the next one (helpers answer requests one at a time). */
export function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(message as object);
  });
}

export interface AppProcess {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/** `node dist/src/server.js` with exactly the given environment (nothing inherited but PATH and HOME). */
export async function startApp(name: string, opts: { serverJs: string; env: Record<string, string>; logFile: string; nodeArgs?: string[] }): Promise<AppProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = fs.openSync(opts.logFile, 'a');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: url, ...opts.env };
  const child = track(spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.serverJs], { env, stdio: ['ignore', log, log] }));
  fs.closeSync(log);
  const tail = () => tailFile(opts.logFile);
  // PGlite's first start (initdb + migrations) takes a few seconds.
  await waitForHttp(`${url}/healthz`, child, 60_000, tail);
  return { name, url, pid: child.pid ?? -1, child, logFile: opts.logFile, stop: () => stopChild(child, 20_000) };
}

export function tailFile(file: string, bytes = 4000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux `clear_refs` 5), so the next peak is this phase's own. */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time a process has used so far, in milliseconds (from /proc/<pid>/stat). */
export function cpuTimeMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** CPU time (ms) of each PostgreSQL process on the machine (backends, WAL writer, checkpointer…), by PID. */
export function postgresCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      out.set(Number(pid), cpuTimeMs(Number(pid)));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** What the PostgreSQL processes alive at the end spent since `before` (a backend that exited meanwhile is not counted). */
export function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpuMs()) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** USER_HZ: 100 on every Linux build that matters; getconf confirms when available. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Pins a process (all its threads) to one CPU with taskset, so the server under test and the load
 * generator each have a core of their own, as on separate machines. false when taskset is missing
 * or the machine has one core.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
