/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by area.
 * CLI: node dist/bench/profile-summary.js <file.cpuprofile> [top]
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: our src, a package, Node's internals, or V8/GC. */
export function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/dist\/(src\/.*)\.js$/.exec(url) ?? /\/(src\/.*)\.[jt]s$/.exec(url);
  if (src) return src[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(?:deps\/)?/, 'node:').split('/').slice(0, 2).join('/');
  return url;
}

/**
 * `window` (microseconds on the monotonic clock, as process.hrtime gives on Linux, which is also
 * V8's profile clock) keeps only the samples taken during a load run. Idle time is left out of the
 * percentages: they are shares of the CPU time the process actually used.
 */
export function summarise(profile: CpuProfile, top = 30, window?: { startUs: number; endUs: number }): string {
  const self = new Map<number, number>();
  let t = profile.startTime;
  let idle = 0;
  let wall = 0;
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.startUs || t > window.endUs)) continue;
    const id = profile.samples[i]!;
    wall += delta;
    if (idleIds.has(id)) {
      idle += delta;
      continue;
    }
    self.set(id, (self.get(id) ?? 0) + delta);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (!t) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = area(url, functionName);
    const fnKey = `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + t);
    byArea.set(where, (byArea.get(where) ?? 0) + t);
  }

  // Inclusive time of our own functions: everything sampled below them.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = nodes.get(cur)!;
      const where = area(n.callFrame.url, n.callFrame.functionName);
      if (!where.startsWith('src/')) continue;
      const key = `${n.callFrame.functionName || '(anonymous)'}  ${where}:${n.callFrame.lineNumber + 1}`;
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }

  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `  ${pct(t)}  ${k}`)
      .join('\n');
  return [
    `profile: ${(wall / 1e6).toFixed(1)} s of wall time${window ? ' (the measured run only)' : ''}, ${(total / 1e6).toFixed(1)} s on CPU (${((100 * total) / (wall || 1)).toFixed(0)}% of one core on the main thread), idle ${(idle / 1e6).toFixed(1)} s; shares below are of the CPU time`,
    'self time by area:',
    list(byArea, 20),
    `self time by function (top ${top}):`,
    list(byFn, top),
    'inclusive time of src/ functions:',
    list(inclusive, 20),
  ].join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarise(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 30))}\n`);
}
