import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';

test('defaults need nothing: embedded database and S3 under ./data on port 3000', () => {
  const c = loadConfig({});
  expect(c.port).toBe(3000);
  expect(c.publicUrl).toBe('http://localhost:3000');
  expect(c.database.url).toBeUndefined();
  expect(c.database.pglitePath).toBe(path.resolve('data/pglite'));
  expect(c.s3.embedded).toBe(true);
  expect(c.s3.embeddedDir).toBe(path.resolve('data/s3'));
  expect(c.uploads.maxBytes).toBe(100 * 1024 * 1024);
  expect(c.memcached.servers).toEqual([]);
});

test('bad values are refused with a message naming each variable', () => {
  expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
  } catch (err) {
    expect((err as Error).message).toMatch(/PORT/);
    expect((err as Error).message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect((err as Error).message).toMatch(/LOG_LEVEL/);
  }
});

test('production needs a shared SECRET_KEY and an S3 endpoint needs a bucket', () => {
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY/);
  expect(() => loadConfig({ S3_ENDPOINT: 'http://minio:9000' })).toThrow(/S3_BUCKET/);
  const c = loadConfig({ S3_BUCKET: 'releases', MEMCACHED_SERVERS: 'a:11211, b:11211', PUBLIC_URL: 'https://updates.example.com/' });
  expect(c.s3.embedded).toBe(false);
  expect(c.memcached.servers).toEqual(['a:11211', 'b:11211']);
  expect(c.publicUrl).toBe('https://updates.example.com');
});

test('DATABASE_POOL_MAX: at least 2, since a starting server migrates on one connection while another holds the lock', () => {
  expect(loadConfig({}).database.poolMax).toBe(10);
  expect(loadConfig({ DATABASE_POOL_MAX: '2' }).database.poolMax).toBe(2);
  for (const bad of ['1', '0', 'ten']) expect(() => loadConfig({ DATABASE_POOL_MAX: bad })).toThrow(/DATABASE_POOL_MAX/);
});

test('CHECKIN_RETENTION_DAYS: 90 days by default, a whole number of days from 1', () => {
  expect(loadConfig({}).checkinRetentionDays).toBe(90);
  expect(loadConfig({ CHECKIN_RETENTION_DAYS: '400' }).checkinRetentionDays).toBe(400);
  for (const bad of ['0', '-5', 'ninety', '1.5']) expect(() => loadConfig({ CHECKIN_RETENTION_DAYS: bad })).toThrow(/CHECKIN_RETENTION_DAYS/);
});
