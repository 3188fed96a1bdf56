import { MIN_CODE_CHARS, normalizeCode } from '../services/licensing/purchase-code.format';
import type { Logger } from '../logger';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * A URL as it may be logged: the path only (query strings carry codes and OAuth secrets), with
 * download tokens and purchase codes replaced, wherever in the path a code appears.
 */
export function logPath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const before = segments[i - 1];
    if (before === 'download') segments[i] = '[token]';
    else if (before === 'purchase-codes' && !UUID.test(s)) segments[i] = '[code]';
    else if (s.length >= MIN_CODE_CHARS && !UUID.test(s) && normalizeCode(decoded(s)) !== null) segments[i] = '[code]'; // a UUID's hex digits would read as one
  }
  return segments.join('/');
}

export interface AccessFields {
  reqId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** The one access-log line, for Express and the fast path alike. */
export function accessLine(logger: Logger, f: AccessFields): void {
  logger.info({ reqId: f.reqId, method: f.method, path: logPath(f.path), status: f.status, ms: Math.round(f.ms * 10) / 10 }, 'request');
}

/** Upper bounds (ms) of the latency buckets in an access summary. */
const BUCKETS = [0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, Infinity];

interface Tally {
  statuses: Map<number, number>;
  buckets: number[];
  max: number;
  n: number;
}

/**
 * Update checks are logged as one summary line per interval (count by status, latency
 * percentiles), not a line each: at 20,000 checks a second a line each costs more CPU than the
 * check (bench/README.md). Errors (5xx) still get their own line, through the error path.
 */
export class AccessSummary {
  private tally = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    intervalMs = 10_000,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  count(route: string, status: number, ms: number): void {
    let t = this.tally.get(route);
    if (!t) this.tally.set(route, (t = { statuses: new Map(), buckets: BUCKETS.map(() => 0), max: 0, n: 0 }));
    t.n++;
    t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
    let b = 0;
    while (ms > BUCKETS[b]!) b++;
    t.buckets[b]!++;
    if (ms > t.max) t.max = ms;
  }

  flush(): void {
    const tally = this.tally;
    this.tally = new Map();
    for (const [route, t] of tally) {
      this.logger.info(
        { route, requests: t.n, statuses: Object.fromEntries(t.statuses), p50_ms: percentile(t, 0.5), p99_ms: percentile(t, 0.99), max_ms: Math.round(t.max * 10) / 10 },
        'requests',
      );
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

/** The bucket bound the q-th request falls under (the max for the last bucket). */
function percentile(t: Tally, q: number): number {
  let seen = 0;
  for (let b = 0; b < BUCKETS.length; b++) {
    seen += t.buckets[b]!;
    if (seen >= q * t.n) return Number.isFinite(BUCKETS[b]!) ? BUCKETS[b]! : Math.round(t.max * 10) / 10;
  }
  return t.max;
}
