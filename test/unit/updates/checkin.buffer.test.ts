import { CheckinBuffer, type Checkin } from '../../../src/services/updates/checkin.buffer';

const check = (over: Partial<Checkin> = {}): Checkin => ({ productId: 'p', host: 'a.example', installedVersion: '1.0', wpVersion: '6.5', phpVersion: '8.2', locale: 'en_US', codeId: 'c', checkedAt: 1000, ...over });

test('identical checks fold into one row with a count and the latest time; any difference is another row', () => {
  const b = new CheckinBuffer();
  b.add(check({ checkedAt: 1000 }));
  b.add(check({ checkedAt: 3000 }));
  b.add(check({ checkedAt: 2000 }));
  b.add(check({ installedVersion: '1.1' }));
  b.add(check({ codeId: null }));
  b.add(check({ host: null }));
  const rows = b.take();
  expect(rows).toHaveLength(4);
  expect(rows[0]).toMatchObject({ checks: 3, checkedAt: 3000 });
  expect(rows.slice(1).map((r) => r.checks)).toEqual([1, 1, 1]);
  expect(b.size).toBe(0);
});

test('rows a flush could not write go back merged with what arrived meanwhile, counts added', () => {
  const b = new CheckinBuffer();
  b.add(check({ checkedAt: 1000 }));
  b.add(check({ checkedAt: 1100 }));
  const failed = b.take();
  b.add(check({ checkedAt: 5000 })); // arrived during the failed flush
  b.add(check({ host: 'b.example', checkedAt: 5000 }));
  b.putBack(failed);
  const rows = b.take();
  expect(rows.map((r) => [r.host, r.checks, r.checkedAt])).toEqual([
    ['a.example', 3, 5000],
    ['b.example', 1, 5000],
  ]);
});

test('bounded: past the limit the oldest row is dropped and its checks counted as lost', () => {
  const b = new CheckinBuffer(2);
  b.add(check({ host: 'a' }), 5);
  b.add(check({ host: 'b' }));
  b.add(check({ host: 'b' }));
  b.add(check({ host: 'c' }));
  expect(b.dropped).toBe(5);
  expect(b.take().map((r) => [r.host, r.checks])).toEqual([
    ['b', 2],
    ['c', 1],
  ]);
});
