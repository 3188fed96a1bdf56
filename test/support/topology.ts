import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The production topology on this machine, driven through deploy/local/topology.sh (the same script operators run). */

export const REPO = path.resolve(__dirname, '../..');
const TOPOLOGY_SH = path.join(REPO, 'deploy/local/topology.sh');
const DEPLOY_SH = path.join(REPO, 'deploy/deploy.sh');
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export type Component = 'pg' | 'memcached' | 's3' | 'apps' | 'nginx';

export interface TopologyOptions {
  /** Number of app servers (default 3). */
  apps?: number;
  /** State dir (default: a fresh temp dir). */
  dir?: string;
  /** Subset to start (default: everything). */
  only?: Component[];
  /** Echo the scripts' step lines to the console. */
  verbose?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Topology {
  dir: string;
  nginxUrl: string;
  /** appPorts[0] is app-1; the app methods take the 1-based number of the server (as in its name). */
  appPorts: number[];
  pgPorts: number[];
  patroniPorts: number[];
  memcachedPort: number;
  s3Port: number;
  etcdPort: number;
  databaseUrl: string;
  /** The environment the app servers share (app.env), e.g. to run the CLI against the topology. */
  appEnv: Record<string, string>;
  /** Milliseconds `up` took. */
  startupMs: number;
  killApp(n: number): Promise<void>;
  startApp(n: number): Promise<void>;
  stopApp(n: number): Promise<void>;
  stopMemcached(): Promise<void>;
  startMemcached(): Promise<void>;
  /** kill -9 the leader's Patroni, postmaster and backends; resolves to the killed node's port. */
  /** kill -9 of the leader's Patroni and PostgreSQL: its port, and when the kill went out (epoch ms). */
  killPrimary(): Promise<{ port: number; at: number }>;
  /** Port of the current leader (asks Patroni's REST /primary), undefined during a failover. */
  primaryPort(): Promise<number | undefined>;
  startPgNode(n: number): Promise<void>;
  /** Rolling deploy with deploy/deploy.sh on this topology's inventory; never throws on a failed deploy. */
  deploy(opts?: { release?: string; skipBuild?: boolean; readyTimeout?: number; onLine?: (line: string) => void }): Promise<RunResult>;
  /** Snapshot the current dist/ into a release dir (what deploy would run). */
  createRelease(): Promise<string>;
  /** Any topology.sh command on this state dir. */
  run(...args: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

const REQUIRED: Record<Component, string[]> = {
  pg: ['etcd', 'patroni', 'psql', `${PG_BIN}/postgres`],
  memcached: ['memcached'],
  s3: ['node'],
  apps: ['node'],
  nginx: ['nginx'],
};

/** Throws (never skips) when a binary the topology needs is missing: CI must fail loudly. */
export function assertBinaries(components: Component[]): void {
  const wanted = new Set(['bash', 'curl', 'ss', 'rsync', 'setsid', ...(process.getuid?.() === 0 ? ['setpriv'] : [])]);
  for (const c of components) for (const b of REQUIRED[c]) wanted.add(b);
  const missing = [...wanted].filter((bin) => !isExecutable(bin));
  if (missing.length) {
    throw new Error(
      `topology needs ${missing.join(', ')} (Debian: nginx-light memcached patroni etcd-server postgresql-15 curl rsync util-linux)`,
    );
  }
  const needsBuild = components.includes('apps') || components.includes('s3');
  if (needsBuild && !isFile(path.join(REPO, 'dist/src/server.js'))) {
    throw new Error('topology needs a build: dist/src/server.js is missing (run `npm run build`)');
  }
}

function isExecutable(bin: string): boolean {
  const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(':').map((d) => path.join(d, bin));
  return candidates.some((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function isFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a script with a hard time limit; resolves with its exit code instead of throwing. */
export function runScript(file: string, args: string[], opts: { timeoutMs?: number; onLine?: (line: string) => void } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile('bash', [file, ...args], { cwd: REPO, env: { ...process.env }, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after timeout)` : stderr });
    });
    if (opts.onLine) {
      let partial = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.onLine?.(line);
      });
    }
  });
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

const ports = (csv: string | undefined): number[] => (csv ? csv.split(',').map(Number) : []);

export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const only = opts.only ?? ['pg', 'memcached', 's3', 'apps', 'nginx'];
  assertBinaries(only);
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'wharf-topo-'));
  const base = ['--state', dir];
  const onLine = opts.verbose ? (line: string) => console.log(line) : undefined;

  const topo = async (...args: string[]): Promise<RunResult> => runScript(TOPOLOGY_SH, [...args, ...base], { onLine });
  const must = async (...args: string[]): Promise<string> => {
    const r = await topo(...args);
    if (r.code !== 0) throw new Error(`topology.sh ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  const t0 = Date.now();
  const up = await topo('up', '--only', only.join(','), '--apps', String(opts.apps ?? 3));
  if (up.code !== 0) {
    await topo('down'); // leave nothing running behind a failed start
    throw new Error(`topology.sh up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  const startupMs = Date.now() - t0;
  const env = parseEnv(up.stdout);
  const appEnv = parseEnv(readFileSync(path.join(dir, 'app.env'), 'utf8'));

  const primaryPort = async (): Promise<number | undefined> => {
    const r = await topo('pg-primary');
    const m = / (\d+)\s*$/.exec(r.stdout.trim());
    return r.code === 0 && m ? Number(m[1]) : undefined;
  };

  return {
    dir,
    nginxUrl: env.NGINX_URL as string,
    appPorts: ports(env.APP_PORTS),
    pgPorts: ports(env.PG_PORTS),
    patroniPorts: ports(env.PATRONI_PORTS),
    memcachedPort: Number(env.MEMCACHED_PORT),
    s3Port: Number(env.S3_PORT),
    etcdPort: Number(env.ETCD_PORT),
    databaseUrl: env.DATABASE_URL as string,
    appEnv,
    startupMs,
    killApp: async (n) => void (await must('app-kill', String(n))),
    startApp: async (n) => void (await must('app-start', String(n))),
    stopApp: async (n) => void (await must('app-stop', String(n))),
    stopMemcached: async () => void (await must('memcached-stop')),
    startMemcached: async () => void (await must('memcached-start')),
    killPrimary: async () => {
      const out = await must('pg-kill-primary');
      const m = /killed=pg\d+ port=(\d+) at=(\d+)/.exec(out);
      if (!m) throw new Error(`unexpected pg-kill-primary output:\n${out}`);
      return { port: Number(m[1]), at: Number(m[2]) };
    },
    primaryPort,
    startPgNode: async (n) => void (await must('pg-start', String(n))),
    deploy: async (d = {}) => {
      const args = [path.join(dir, 'inventory')];
      if (d.release) args.push('--release', d.release);
      if (d.skipBuild) args.push('--skip-build');
      if (d.readyTimeout) args.push('--ready-timeout', String(d.readyTimeout));
      return runScript(DEPLOY_SH, args, { timeoutMs: 600_000, onLine: d.onLine ?? onLine });
    },
    createRelease: async () => (await must('release')).trim().split('\n').pop() as string,
    run: topo,
    stop: async () => {
      const r = await topo('down');
      if (r.code !== 0) throw new Error(`topology.sh down failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    },
  };
}
