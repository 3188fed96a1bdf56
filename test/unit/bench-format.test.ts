import { aggregate, loadTable, median, summary, table, uploadTable, withRatios, type LoadResult, type UploadMeasure } from '../../bench/lib/format';

const run = (key: string, rps: number, extra: Partial<LoadResult> = {}): LoadResult => ({
  key,
  label: key,
  rps,
  p50: 2,
  p99: 8,
  max: 20,
  errors: 0,
  requests: rps * 8,
  cpuUsPerRequest: 100,
  dbCpuUsPerRequest: 40,
  statuses: { '200': rps * 8 },
  ...extra,
});

const upload = (zipBytes: number, requestBytesRead: number, peakGrowth: number): UploadMeasure => ({
  label: `${zipBytes}`,
  zipBytes,
  requestBytesRead,
  requestS3: { HEAD: 1, 'GET range': 3 },
  backgroundBytesRead: zipBytes,
  otherServersBytesRead: 0,
  rssBefore: 100 * 1024 * 1024,
  rssPeakRequest: 101 * 1024 * 1024,
  rssPeak: (100 + peakGrowth) * 1024 * 1024,
  rssAfter: 102 * 1024 * 1024,
  finalizeMs: 80,
  checksumMs: 900,
});

describe('bench result formatting', () => {
  test('each Wharf run is compared with the mean of the ceiling runs around it', () => {
    const rows = withRatios([run('ceiling', 10_000), run('cached', 3_000), run('ceiling', 20_000), run('expired', 1_500)]);
    expect(rows.map((r) => r.ratio)).toEqual([null, 0.2, null, 0.075]);
  });

  test('a run with no ceiling around it has no ratio rather than an invented one', () => {
    expect(withRatios([run('cached', 3_000)])[0]!.ratio).toBeNull();
  });

  test('rounds aggregate to medians per scenario, errors and requests add up', () => {
    const rows = aggregate(withRatios([run('ceiling', 10_000), run('cached', 1_000, { errors: 1 }), run('ceiling', 10_000), run('cached', 3_000, { errors: 2 }), run('ceiling', 10_000), run('cached', 2_000), run('ceiling', 10_000)]));
    const cached = rows.find((r) => r.key === 'cached')!;
    expect(cached.rps).toBe(2_000);
    expect(cached.ratio).toBeCloseTo(0.2);
    expect(cached.errors).toBe(3);
    expect(cached.requests).toBe(48_000);
    expect(cached.label).toMatch(/median of 3/);
  });

  test('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  test('tables align columns and keep every row', () => {
    const text = table(['name', 'n'], [['a', '1'], ['longer', '22']]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(loadTable(withRatios([run('ceiling', 10_000), run('cached', 5_000)]))).toMatch(/cached\s+5,000\s+2\.0\s+8\.0\s+20\.0\s+0\s+0\.50\s+100\s+40/);
    expect(uploadTable([upload(1024 * 1024, 5000, 1)])).toMatch(/1\.0 MB\s+4\.9 KB\s+HEAD ×1, GET range ×3\s+1\.0 MB\s+0 B\s+100\.0\s+1\.0\s+1\.0\s+2\.0\s+80\s+900/);
  });

  test('the summary carries the figures the issue asks for and judges the targets', () => {
    const rows = aggregate(withRatios([run('ceiling', 10_000), run('cached', 6_000, { p99: 7 }), run('ceiling', 10_000), run('uncached', 900), run('ceiling', 10_000)]));
    const s = summary(rows, { small: upload(1024 * 1024, 5_000, 1), big: upload(200 * 1024 * 1024, 5_200, 30) });
    expect(s).toMatchObject({
      ceiling_rps: 10_000,
      cached_rps: 6_000,
      cached_ratio: 0.6,
      cached_p99_ms: 7,
      uncached_rps: 900,
      expired_rps: null,
      download_rps: null,
      finalize_bytes_read_200mb: 5_200,
      finalize_bytes_read_1mb: 5_000,
      after_answer_bytes_read_200mb: 200 * 1024 * 1024,
      rss_growth_mb_200mb: 30,
    });
    expect(s.targets_met).toEqual({
      cached_ratio: true,
      cached_p99_ms: true,
      finalize_bytes_read_200mb: true,
      rss_growth_mb_200mb: false,
      download_rps_distinct: null,
      download_p99_ms_distinct: null,
      download_rps_hot: null,
      mixed_ratio: null,
    });
    expect(() => JSON.parse(JSON.stringify(s))).not.toThrow();
  });

  test('the download and mixed figures and their targets', () => {
    const rows = aggregate(
      withRatios([run('ceiling', 10_000), run('download_distinct', 2_100, { p99: 40 }), run('ceiling', 10_000), run('download', 480), run('ceiling', 10_000), run('mixed', 4_500, { p99: 12 }), run('ceiling', 10_000)]),
    );
    const s = summary(rows, {});
    expect(s).toMatchObject({ download_rps_distinct: 2_100, download_p99_ms_distinct: 40, download_rps_hot: 480, mixed_rps: 4_500, mixed_ratio: 0.45, mixed_p99_ms: 12 });
    // Where the CPU went: the app's and PostgreSQL's, per request.
    expect(s).toMatchObject({ mixed_cpu_us_per_req: 100, mixed_db_cpu_us_per_req: 40, download_db_cpu_us_per_req_distinct: 40 });
    expect(s.targets_met).toMatchObject({ download_rps_distinct: true, download_p99_ms_distinct: true, download_rps_hot: false, mixed_ratio: true });
  });
});
