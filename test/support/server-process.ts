import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The real server as `npm start` runs it (`node dist/src/server.js`), one process per call. */

export const ROOT = path.resolve(__dirname, '../..');

/**
 * The README's start path runs the built server. `npm test` builds first; a file run on its own
 * builds here when dist/ is older than the sources. Under a lock, so that parallel jest workers
 * never spawn a server from files another worker's build is rewriting.
 */
export function buildOnce(): void {
  if (builtAfterSources()) return;
  const lock = path.join(ROOT, '.tmp', 'build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const until = Date.now() + 300_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      if (Date.now() > until) throw new Error(`${lock} held for 5 minutes: remove it if no build runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!builtAfterSources()) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function builtAfterSources(): boolean {
  let built: number;
  try {
    built = fs.statSync(path.join(ROOT, 'dist/src/server.js')).mtimeMs;
  } catch {
    return false;
  }
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const full = path.join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
    }, 0);
  return Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'public'))) <= built;
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

/**
 * The URL the server reports in its `wharf: listening` log line (start it with PORT=0 and
 * EMBEDDED_S3_PORT=0: the kernel picks free ports, so parallel suites never race for one).
 */
export async function listeningUrl(server: ServerProcess, ms = 180_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    for (const line of server.stdout().split('\n')) {
      if (!line.includes('"wharf: listening"')) continue;
      return (JSON.parse(line) as { url: string }).url;
    }
    if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`server exited (${server.child.exitCode ?? server.child.signalCode}):\n${server.output()}`);
    if (Date.now() > until) throw new Error(`server not listening after ${ms} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
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
