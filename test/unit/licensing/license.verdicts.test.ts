import { activationVerdict, codeStatus, downloadVerdict, siteBinding, updateVerdict, type VersionRef } from '../../../src/services/licensing/license.verdicts';
import type { CodeState } from '../../../src/services/licensing/purchase-code.state';

const day = (iso: string) => Date.parse(iso);
const v = (version: string, released: string): VersionRef => ({ id: `v${version}`, version, releasedAt: day(released) });
const v1 = v('1.0', '2026-01-10T12:00:00Z');
const v2 = v('2.0', '2026-03-03T23:59:59Z');
const v21 = v('2.1', '2026-03-04T00:00:00Z');
const NOW = day('2026-06-01T00:00:00Z');

function code(over: Partial<CodeState> = {}): CodeState {
  return { id: 'c1', code: 'C'.repeat(32), productId: 'p1', revision: 1, expiresOn: null, maxDownloads: null, downloadsUsed: 0, maxSites: null, revoked: false, countedHosts: [], boundHosts: [], ...over };
}

const check = (c: CodeState | null | undefined, over: Partial<Parameters<typeof updateVerdict>[0]> = {}) =>
  updateVerdict({ free: false, live: v21, versions: [v1, v2, v21], code: c, host: 'shop.example.com', installedVersion: '1.0', now: NOW, ...over });

describe('update check', () => {
  test('free products need no code; a missing, foreign or revoked code announces the live version without a download', () => {
    expect(check(undefined, { free: true })).toEqual({ version: v21, downloadable: true, error: null });
    expect(check(undefined).error?.code).toBe('missing');
    expect(check(null).error?.code).toBe('unknown');
    expect(check(code({ revoked: true }))).toEqual({ version: v21, downloadable: false, error: { code: 'revoked', message: 'This purchase code was revoked by the vendor.' } });
    expect(check(code())).toEqual({ version: v21, downloadable: true, error: null });
  });

  test('expiry: entitled through the end of the expiry day (UTC); an expired code is offered the newest entitled version when it is newer', () => {
    const expired = code({ expiresOn: '2026-03-03' });
    const from1 = check(expired);
    expect(from1.version).toBe(v2);
    expect(from1.downloadable).toBe(true);
    expect(from1.error).toEqual({ code: 'expired', message: 'Your purchase code expired on 3 March 2026; renew it to get version 2.1.' });
    const from2 = check(expired, { installedVersion: '2.0' });
    expect([from2.version, from2.downloadable, from2.error?.code]).toEqual([v21, false, 'expired']);
    expect(check(code({ expiresOn: '2026-03-04' })).error).toBeNull();
    // Not yet past the expiry day: no expiry error at all.
    expect(check(expired, { now: day('2026-03-03T23:00:00Z') }).error).toBeNull();
  });

  test('download and site limits', () => {
    expect(check(code({ maxDownloads: 2, downloadsUsed: 2 })).error).toEqual({ code: 'download_limit', message: 'This purchase code has used all 2 of its downloads. Contact the vendor for more.' });
    expect(check(code({ maxDownloads: 2, downloadsUsed: 1 })).downloadable).toBe(true);
    const full = code({ maxSites: 1, countedHosts: ['first.example.com'], boundHosts: ['first.example.com'] });
    expect(check(full).error?.message).toBe('This purchase code is already active on 1 of 1 allowed site. Deactivate it on another site to use it on shop.example.com.');
    expect(check(full, { host: 'first.example.com' }).downloadable).toBe(true);
    expect(check(full, { host: 'staging.test' }).downloadable).toBe(true);
    expect(check(full, { host: null }).error?.code).toBe('site_limit');
    expect(check(code({ maxSites: 3, countedHosts: ['a.com', 'b.com'], boundHosts: ['a.com', 'b.com'] })).downloadable).toBe(true);
  });
});

describe('download, given the state the counting statement saw', () => {
  test('unknown, other product, revoked, released after expiry, limits', () => {
    expect(downloadVerdict(null, 'p1', v21, 'a.com')).toEqual({ ok: false, error: { code: 'unknown', message: 'This purchase code no longer exists.' } });
    expect(downloadVerdict(code({ productId: 'p2' }), 'p1', v21, 'a.com')).toMatchObject({ ok: false, error: { code: 'unknown' } });
    expect(downloadVerdict(code({ revoked: true }), 'p1', v21, 'a.com')).toMatchObject({ ok: false, error: { code: 'revoked' } });
    expect(downloadVerdict(code({ expiresOn: '2026-03-03' }), 'p1', v21, 'a.com')).toEqual({
      ok: false,
      error: { code: 'expired', message: 'Your purchase code expired on 3 March 2026; version 2.1 was released after that.' },
    });
    expect(downloadVerdict(code({ expiresOn: '2026-03-03' }), 'p1', v2, 'a.com')).toEqual({ ok: true, binding: 'record' });
    expect(downloadVerdict(code({ maxDownloads: 5, downloadsUsed: 5 }), 'p1', v21, 'a.com')).toMatchObject({ ok: false, error: { code: 'download_limit' } });
  });

  test('how the site is bound: nothing for a bound host, a record without a limit or for development hosts, a slot otherwise', () => {
    const limited = code({ maxSites: 2, countedHosts: ['a.com'], boundHosts: ['a.com', 'localhost'] });
    expect(downloadVerdict(limited, 'p1', v21, 'a.com')).toEqual({ ok: true, binding: 'none' });
    expect(downloadVerdict(limited, 'p1', v21, 'b.com')).toEqual({ ok: true, binding: 'claim-slot' });
    expect(downloadVerdict(limited, 'p1', v21, '192.168.1.20')).toEqual({ ok: true, binding: 'record' });
    expect(downloadVerdict(code(), 'p1', v21, 'b.com')).toEqual({ ok: true, binding: 'record' });
    expect(downloadVerdict(code(), 'p1', v21, null)).toEqual({ ok: true, binding: 'none' });
    expect(siteBinding(code({ maxSites: 1 }), 'x.test')).toBe('record');
    const full = code({ maxSites: 1, countedHosts: ['a.com'], boundHosts: ['a.com'] });
    expect(downloadVerdict(full, 'p1', v21, 'b.com')).toMatchObject({ ok: false, error: { code: 'site_limit' } });
  });
});

test('activation: 403 for a revoked code, 409 without a free slot, else allowed', () => {
  expect(activationVerdict(code({ revoked: true }), 'a.com')).toMatchObject({ status: 403, error: { code: 'revoked' } });
  expect(activationVerdict(code({ maxSites: 1, countedHosts: ['b.com'], boundHosts: ['b.com'] }), 'a.com')).toMatchObject({ status: 409, error: { code: 'site_limit' } });
  expect(activationVerdict(code({ maxSites: 1, countedHosts: ['b.com'], boundHosts: ['b.com'] }), 'b.com')).toBeNull();
  expect(activationVerdict(code(), 'a.com')).toBeNull();
});

test('status: revoked before expired before exhausted', () => {
  const now = day('2026-06-01T12:00:00Z');
  const base = { revokedAt: null, expiresOn: null, maxDownloads: null, downloadsUsed: 0 };
  expect(codeStatus(base, now)).toBe('active');
  expect(codeStatus({ ...base, expiresOn: '2026-06-01' }, now)).toBe('active'); // through the end of that day
  expect(codeStatus({ ...base, expiresOn: '2026-05-31' }, now)).toBe('expired');
  expect(codeStatus({ ...base, maxDownloads: 1, downloadsUsed: 1 }, now)).toBe('exhausted');
  expect(codeStatus({ ...base, maxDownloads: 1, downloadsUsed: 1, expiresOn: '2026-05-31', revokedAt: new Date(0) }, now)).toBe('revoked');
});
