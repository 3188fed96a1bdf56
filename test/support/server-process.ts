import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** The real server as `npm start` runs it (`node dist/src/server.js`), one process per call. */

export const ROOT = path.resolve(__dirname, '../..');

/** The README's start path runs the built server: build it once per test file. */
export function buildOnce(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  stderr(): string;
}

export function startServer(env: Record<string, string>): ServerProcess {
  let out = '';
  let stdout = '';
  let stderr = '';
  const child = spawn(process.execPath, ['dist/src/server.js'], { cwd: ROOT, env: { PATH: process.env.PATH!, ...env } });
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
    stderr += d;
  });
  return { child, output: () => out, stdout: () => stdout, stderr: () => stderr };
}

/** Polls `url` until the server answers; fails at once if the server exits. */
export async function waitFor(url: string, server: ServerProcess, ms = 120_000): Promise<Response> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`server exited (${server.child.exitCode ?? server.child.signalCode}):\n${server.output()}`);
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM (graceful drain) and wait. */
export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const done = exited(server.child);
  server.child.kill('SIGTERM');
  await done;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
