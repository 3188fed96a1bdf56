/** Pure formatting of bench results: the table, the ratios and the final JSON line. */

export interface LoadResult {
  /** Scenario key, e.g. "cached" or "ceiling". */
  key: string;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Socket errors + timeouts + 4xx + 5xx answers (anything but 2xx/3xx). */
  errors: number;
  requests: number;
  /** CPU time (user + system) the server process spent per answered request, in µs; NaN if unknown. */
  cpuUsPerRequest: number;
  /** CPU time of every PostgreSQL process on the machine during the run, per answered request, in µs; NaN if unknown. */
  dbCpuUsPerRequest: number;
  statuses: Record<string, number>;
}

export interface Row extends LoadResult {
  /** requests/s divided by the ceiling runs just before and after this one (their mean). */
  ratio: number | null;
}

/** Pairs every non-ceiling run with the ceiling runs around it (the machine as it was then). */
export function withRatios(sequence: LoadResult[]): Row[] {
  return sequence.map((r, i) => {
    if (r.key === 'ceiling') return { ...r, ratio: null };
    const before = [...sequence.slice(0, i)].reverse().find((x) => x.key === 'ceiling');
    const after = sequence.slice(i + 1).find((x) => x.key === 'ceiling');
    const refs = [before, after].filter((x): x is LoadResult => !!x && x.rps > 0);
    const ref = refs.length ? refs.reduce((s, x) => s + x.rps, 0) / refs.length : 0;
    return { ...r, ratio: ref > 0 ? r.rps / ref : null };
  });
}

/** One row per scenario: the median of each figure over its runs (BENCH_REPEAT rounds). */
export function aggregate(rows: Row[]): Row[] {
  const keys = [...new Set(rows.map((r) => r.key))];
  return keys.map((key) => {
    const rs = rows.filter((r) => r.key === key);
    const m = (f: (r: Row) => number) => median(rs.map(f).filter((v) => Number.isFinite(v)));
    const ratios = rs.map((r) => r.ratio).filter((v): v is number => v !== null);
    const statuses: Record<string, number> = {};
    for (const r of rs) for (const [c, n] of Object.entries(r.statuses)) statuses[c] = (statuses[c] ?? 0) + n;
    return {
      key,
      label: rs.length > 1 ? `${rs[0]!.label} (median of ${rs.length})` : rs[0]!.label,
      rps: m((r) => r.rps),
      p50: m((r) => r.p50),
      p99: m((r) => r.p99),
      max: Math.max(...rs.map((r) => r.max)),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      requests: rs.reduce((n, r) => n + r.requests, 0),
      cpuUsPerRequest: rs.some((r) => Number.isFinite(r.cpuUsPerRequest)) ? m((r) => r.cpuUsPerRequest) : NaN,
      dbCpuUsPerRequest: rs.some((r) => Number.isFinite(r.dbCpuUsPerRequest)) ? m((r) => r.dbCpuUsPerRequest) : NaN,
      statuses,
      ratio: ratios.length ? median(ratios) : null,
    };
  });
}

export function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '-');

/** A fixed-width text table; numbers right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function loadTable(rows: Row[]): string {
  return table(
    ['run', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'vs ceiling', 'server CPU µs/req', 'PostgreSQL CPU µs/req'],
    rows.map((r) => [
      r.label,
      fmtInt(r.rps),
      fmtMs(r.p50),
      fmtMs(r.p99),
      fmtMs(r.max),
      fmtInt(r.errors),
      r.ratio === null ? '' : r.ratio.toFixed(2),
      Number.isFinite(r.cpuUsPerRequest) ? fmtInt(r.cpuUsPerRequest) : '-',
      Number.isFinite(r.dbCpuUsPerRequest) ? fmtInt(r.dbCpuUsPerRequest) : '-',
    ]),
  );
}

export interface UploadMeasure {
  label: string;
  zipBytes: number;
  /** Bytes the app read from S3 while the finalize request ran (HEAD + ranged GETs). */
  requestBytesRead: number;
  /** S3 requests the finalize request made, e.g. { HEAD: 1, 'GET range': 4 }. */
  requestS3: Record<string, number>;
  /** Bytes read from S3 after the answer, until the version's checksum was recorded (0 when none). */
  backgroundBytesRead: number;
  /** Bytes the other app servers (same database) read from S3 meanwhile: their checksum sweeper. */
  otherServersBytesRead: number;
  rssBefore: number;
  /** VmHWM (reset just before the finalize) when the request answered. */
  rssPeakRequest: number;
  /** VmHWM once the checksum was recorded: the whole cost of a release. */
  rssPeak: number;
  rssAfter: number;
  finalizeMs: number;
  /** From the request to the checksum being recorded (same as finalizeMs when it is computed inline). */
  checksumMs: number;
}

export const mb = (bytes: number) => bytes / (1024 * 1024);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
export const fmtBytes = (n: number) => (n >= 1024 * 1024 ? `${mb(n).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

export function uploadTable(rows: UploadMeasure[]): string {
  return table(
    ['finalize', 'zip', 'read by request', 'request S3 calls', 'read after answer', 'other servers read', 'RSS before MB', 'peak +MB request', 'peak +MB incl. after', 'RSS +MB at end', 'request ms', 'checksum ms'],
    rows.map((u) => [
      u.label,
      fmtBytes(u.zipBytes),
      fmtBytes(u.requestBytesRead),
      Object.entries(u.requestS3).map(([m, n]) => `${m} ×${n}`).join(', '),
      fmtBytes(u.backgroundBytesRead),
      fmtBytes(u.otherServersBytesRead),
      mb(u.rssBefore).toFixed(1),
      mb(u.rssPeakRequest - u.rssBefore).toFixed(1),
      mb(u.rssPeak - u.rssBefore).toFixed(1),
      mb(u.rssAfter - u.rssBefore).toFixed(1),
      fmtInt(u.finalizeMs),
      fmtInt(u.checksumMs),
    ]),
  );
}

export interface Targets {
  cached_ratio: number;
  cached_p99_ms: number;
  finalize_bytes_read_200mb: number;
  finalize_read_vs_1mb: number;
  rss_growth_mb_200mb: number;
  download_rps_distinct: number;
  download_p99_ms_distinct: number;
  download_rps_hot: number;
  mixed_ratio: number;
}

export const TARGETS: Targets = {
  cached_ratio: 0.5,
  cached_p99_ms: 10,
  finalize_bytes_read_200mb: 1024 * 1024,
  finalize_read_vs_1mb: 4,
  rss_growth_mb_200mb: 20,
  download_rps_distinct: 2000,
  download_p99_ms_distinct: 50,
  download_rps_hot: 500,
  mixed_ratio: 0.4,
};

/** The last line of the output: one JSON object. Missing figures are null, never invented. */
export function summary(rows: Row[], uploads: { small?: UploadMeasure; big?: UploadMeasure }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const pick = (key: string) => rows.find((r) => r.key === key);
  const rps = (key: string) => (pick(key) ? Math.round(pick(key)!.rps) : null);
  /** A scenario's CPU per request (the app's, or PostgreSQL's), rounded; null when not measured. */
  const cpu = (key: string, of: 'cpuUsPerRequest' | 'dbCpuUsPerRequest') => {
    const v = pick(key)?.[of];
    return v !== undefined && Number.isFinite(v) ? Math.round(v) : null;
  };
  const ceilings = rows.filter((r) => r.key === 'ceiling').map((r) => r.rps); // already one median row per key
  const cached = pick('cached');
  const big = uploads.big;
  const small = uploads.small;
  const out: Record<string, unknown> = {
    ceiling_rps: ceilings.length ? Math.round(median(ceilings)) : null,
    cached_rps: rps('cached'),
    cached_ratio: cached?.ratio != null ? round(cached.ratio, 3) : null,
    cached_p99_ms: cached ? cached.p99 : null,
    cached_p50_ms: cached ? cached.p50 : null,
    cached_cpu_us_per_req: cpu('cached', 'cpuUsPerRequest'),
    ceiling_cpu_us_per_req: (() => {
      const c = rows.filter((r) => r.key === 'ceiling' && Number.isFinite(r.cpuUsPerRequest)).map((r) => r.cpuUsPerRequest);
      return c.length ? Math.round(median(c)) : null;
    })(),
    cached_get_rps: rps('cached_get'),
    uncached_rps: rps('uncached'),
    uncached_pglite_rps: rps('uncached_pglite'),
    expired_rps: rps('expired'),
    download_rps: rps('download'),
    download_rps_hot: rps('download'),
    download_rps_distinct: rps('download_distinct'),
    download_p99_ms_distinct: pick('download_distinct')?.p99 ?? null,
    download_p50_ms_distinct: pick('download_distinct')?.p50 ?? null,
    download_cpu_us_per_req_distinct: cpu('download_distinct', 'cpuUsPerRequest'),
    mixed_rps: rps('mixed'),
    mixed_ratio: pick('mixed')?.ratio != null ? round(pick('mixed')!.ratio!, 3) : null,
    mixed_p99_ms: pick('mixed')?.p99 ?? null,
    mixed_cpu_us_per_req: cpu('mixed', 'cpuUsPerRequest'),
    mixed_db_cpu_us_per_req: cpu('mixed', 'dbCpuUsPerRequest'),
    download_db_cpu_us_per_req_distinct: cpu('download_distinct', 'dbCpuUsPerRequest'),
    errors: rows.filter((r) => r.key !== 'ceiling').reduce((n, r) => n + r.errors, 0),
    finalize_bytes_read_200mb: big ? big.requestBytesRead : null,
    finalize_bytes_read_1mb: small ? small.requestBytesRead : null,
    after_answer_bytes_read_200mb: big ? big.backgroundBytesRead : null,
    after_answer_bytes_read_1mb: small ? small.backgroundBytesRead : null,
    other_servers_bytes_read_200mb: big ? big.otherServersBytesRead : null,
    rss_growth_mb_200mb: big ? round(mb(big.rssPeak - big.rssBefore), 1) : null,
    rss_growth_mb_1mb: small ? round(mb(small.rssPeak - small.rssBefore), 1) : null,
    rss_growth_mb_200mb_request_only: big ? round(mb(big.rssPeakRequest - big.rssBefore), 1) : null,
    finalize_ms_200mb: big ? Math.round(big.finalizeMs) : null,
    checksum_ms_200mb: big ? Math.round(big.checksumMs) : null,
  };
  const met = (ok: boolean | null) => ok;
  out.targets_met = {
    cached_ratio: out.cached_ratio === null ? null : met((out.cached_ratio as number) >= TARGETS.cached_ratio),
    cached_p99_ms: out.cached_p99_ms === null ? null : met((out.cached_p99_ms as number) < TARGETS.cached_p99_ms),
    finalize_bytes_read_200mb:
      big && small ? big.requestBytesRead < TARGETS.finalize_bytes_read_200mb && big.requestBytesRead <= TARGETS.finalize_read_vs_1mb * Math.max(small.requestBytesRead, 1) : null,
    rss_growth_mb_200mb: out.rss_growth_mb_200mb === null ? null : (out.rss_growth_mb_200mb as number) < TARGETS.rss_growth_mb_200mb,
    download_rps_distinct: out.download_rps_distinct === null ? null : (out.download_rps_distinct as number) >= TARGETS.download_rps_distinct,
    download_p99_ms_distinct: out.download_p99_ms_distinct === null ? null : (out.download_p99_ms_distinct as number) < TARGETS.download_p99_ms_distinct,
    download_rps_hot: out.download_rps_hot === null ? null : (out.download_rps_hot as number) >= TARGETS.download_rps_hot,
    mixed_ratio: out.mixed_ratio === null ? null : (out.mixed_ratio as number) >= TARGETS.mixed_ratio,
  };
  return { ...out, ...extra };
}
