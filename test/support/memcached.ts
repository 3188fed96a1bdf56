import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

const MEMCACHED_BIN = '/usr/bin/memcached';

export interface MemcachedProcess {
  port: number;
  pid: number;
  /** SIGTERM and wait for exit (resumes a paused server first). */
  stop(): Promise<void>;
  /** SIGSTOP: the kernel still accepts connections but nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave memcached processes behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns a real memcached on loopback (a free port, or `port` to restart on the same one). */
export async function startMemcached(options: { port?: number } = {}): Promise<MemcachedProcess> {
  assertInstalled();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await spawnOn(port);
    } catch (err) {
      lastError = err; // most likely another process took the port between probe and bind
      if (options.port !== undefined) break;
    }
  }
  throw lastError;
}

function assertInstalled(): void {
  try {
    accessSync(MEMCACHED_BIN, constants.X_OK);
  } catch {
    const hint = process.env.CI
      ? 'memcached is required in CI: install it (apt-get install memcached)'
      : 'install it with `apt-get install memcached` to run the cache integration tests';
    throw new Error(`${MEMCACHED_BIN} not found or not executable: ${hint}`);
  }
}

async function spawnOn(port: number): Promise<MemcachedProcess> {
  const args = ['-l', '127.0.0.1', '-p', String(port), '-m', '64', '-U', '0'];
  if (process.getuid?.() === 0) args.unshift('-u', 'nobody'); // memcached refuses to run as root
  const child = spawn(MEMCACHED_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  let paused = false;

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilAccepting(port, exited);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`memcached did not start on port ${port}: ${(err as Error).message} ${stderr.trim()}`);
  }

  return {
    port,
    pid: child.pid ?? -1,
    stop: async () => {
      if (paused) child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
      paused = false;
      await signalAndWait('SIGTERM');
    },
    pause: () => {
      paused = true;
      child.kill('SIGSTOP');
      waitUntilStopped(child.pid ?? -1);
    },
    resume: () => {
      paused = false;
      child.kill('SIGCONT');
    },
    kill: () => signalAndWait('SIGKILL'),
  };
}

/** SIGSTOP lands asynchronously: wait until every thread is stopped so no reply slips out after pause(). */
function waitUntilStopped(pid: number): void {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    try {
      const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      });
      if (states.every((state) => state === 'T' || state === 't')) return;
    } catch {
      return; // no /proc (not Linux) or the process is gone: nothing more to wait for
    }
  }
}

async function freePort(): Promise<number> {
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

async function waitUntilAccepting(port: number, exited: Promise<void>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error('process exited');
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('timed out waiting for connections');
}

/** Connects and asks for the version, so a foreign listener on the port does not count. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('version\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('VERSION')));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
