import fs from 'node:fs';

/**
 * One process at a time may open the embedded database: PGlite is a single process, and two
 * openers overwrite each other's pages. The lock is a file holding the owner's PID, created
 * atomically (link(2) of a finished temp file, so nobody ever reads a half-written one).
 */

export interface LockHolder {
  pid: number;
  /** What holds it: `server` or `wharf <command>`. */
  role: string;
  since: string;
  /** Kernel start time of the owner (Linux), so a recycled PID is not mistaken for the owner. */
  startTime?: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly lockPath: string,
    readonly holder: LockHolder,
  ) {
    const who = holder.role === 'server' ? `the Wharf server (PID ${holder.pid})` : `\`${holder.role}\` (PID ${holder.pid})`;
    super(
      `${dir} is in use by ${who}, running since ${holder.since}. Only one process may open the embedded database: ` +
        (holder.role === 'server'
          ? `stop that server first (kill ${holder.pid}) or give this one another DATA_DIR. Operator commands (npx wharf …) use the running server's database by themselves.`
          : `wait for it to finish, or stop it (kill ${holder.pid}).`) +
        ` If no such process is running, remove ${lockPath}.`,
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

const held = new Set<string>();
process.once('exit', () => {
  for (const file of held) removeIfOurs(file);
});

/** Takes `lockPath` for this process, or throws DataDirLockedError naming the live owner. */
export async function acquireDataDirLock(lockPath: string, dir: string, role: string): Promise<DataDirLock> {
  const me: LockHolder = { pid: process.pid, role, since: new Date().toISOString(), ...optional(startTimeOf(process.pid)) };
  const tmp = `${lockPath}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (tryLink(tmp, lockPath)) {
        held.add(lockPath);
        return { path: lockPath, release: () => release(lockPath) };
      }
      const holder = readHolder(lockPath);
      if (holder === null) continue; // released between our two calls: try again
      if (isAlive(holder, lockPath)) throw new DataDirLockedError(dir, lockPath, holder);
      await takeOverStale(lockPath, holder, tmp);
    }
    throw new Error(`could not take the lock ${lockPath}: other processes keep taking it`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The live owner of a lock file, or undefined when it is free or stale. */
export function lockOwner(lockPath: string): LockHolder | undefined {
  const holder = readHolder(lockPath);
  return holder && isAlive(holder, lockPath) ? holder : undefined;
}

/**
 * Stale (its owner died): remove it under a second O_EXCL guard, so that of two processes finding
 * the same stale lock only one removes it, and never a fresh lock another process just took.
 */
async function takeOverStale(lockPath: string, stale: LockHolder, tmp: string): Promise<void> {
  const guard = `${lockPath}.takeover`;
  if (!tryLink(tmp, guard)) {
    const other = readHolder(guard);
    // A takeover lasts microseconds: a guard left by a dead process is removed, a live one waited for.
    if (other && !isAlive(other, guard)) removeIfSame(guard, other);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    const now = readHolder(lockPath);
    if (now && sameHolder(now, stale) && !isAlive(now, lockPath)) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** null when the file is gone; a pid-0 holder (always stale) when it is unreadable garbage. */
function readHolder(file: string): LockHolder | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0) {
      return { pid: parsed.pid as number, role: String(parsed.role ?? 'unknown'), since: String(parsed.since ?? 'unknown'), ...optional(parsed.startTime) };
    }
  } catch {
    // fall through: not ours, or truncated by a crash of the file system
  }
  return { pid: 0, role: 'unknown', since: 'unknown' };
}

function isAlive(holder: LockHolder, file: string): boolean {
  if (holder.pid <= 0) return false;
  // Our own PID: live only if this process took it (a container restarts with the same PID).
  if (holder.pid === process.pid) return held.has(file);
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(holder.pid);
  return !(holder.startTime && now && now !== holder.startTime);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.startTime === b.startTime && a.since === b.since;
}

function removeIfSame(file: string, expected: LockHolder): void {
  const now = readHolder(file);
  if (now && sameHolder(now, expected)) fs.rmSync(file, { force: true });
}

function removeIfOurs(file: string): void {
  try {
    const now = readHolder(file);
    if (now && now.pid === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // exiting anyway; a stale lock is taken over by the next opener
  }
}

function release(file: string): void {
  if (!held.delete(file)) return;
  removeIfOurs(file);
}

function optional(startTime: string | undefined): { startTime?: string } {
  return startTime ? { startTime } : {};
}
