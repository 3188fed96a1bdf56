import autocannon from 'autocannon';
import type { LoadResult } from './format';
import { cpuTimeMs, postgresCpuMs, postgresCpuSince } from './procs';

export interface Target {
  key: string;
  label: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** The server process, to read how much CPU it spent per request. */
  pid?: number;
  /** A different request each time (path, and body or headers when given); `url` then names the server. */
  next?: () => { path: string; body?: string; headers?: Record<string, string> };
}

/** One autocannon run; autocannon never follows redirects, so a 302 counts as the answer. */
export async function load(t: Target, seconds: number, connections: number, amount?: number): Promise<LoadResult> {
  const cpuBefore = t.pid ? cpuTimeMs(t.pid) : NaN;
  const dbBefore = t.pid ? postgresCpuMs() : undefined;
  const r = await autocannon({
    url: t.url,
    method: t.method,
    headers: t.headers,
    ...(t.body !== undefined ? { body: t.body } : {}),
    ...(t.next ? { requests: [{ method: t.method, headers: t.headers, setupRequest: (req: autocannon.Request) => ({ ...req, ...t.next!() }) }] } : {}),
    connections,
    duration: seconds,
    ...(amount ? { amount } : {}),
    timeout: 10,
  });
  const cpuMs = t.pid ? cpuTimeMs(t.pid) - cpuBefore : NaN;
  const dbMs = dbBefore ? postgresCpuSince(dbBefore) : NaN;
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
  return {
    key: t.key,
    label: t.label,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r['4xx'] + r['5xx'], // autocannon's errors include its timeouts
    requests: r.requests.total ?? 0,
    cpuUsPerRequest: r.requests.total ? (cpuMs * 1000) / r.requests.total : NaN,
    dbCpuUsPerRequest: r.requests.total ? (dbMs * 1000) / r.requests.total : NaN,
    statuses,
  };
}
