import { loadConfig } from '../../src/config';
import { startupLine } from '../../src/startup-line';

test('on the embedded defaults the line says where to go and where the data lives', () => {
  const config = loadConfig({ DATA_DIR: '/srv/wharf-data', PORT: '3000' });
  expect(startupLine(config, { host: '127.0.0.1', port: 3000 })).toBe(
    'Wharf is listening on http://127.0.0.1:3000 · first account: http://localhost:3000/signup · data: /srv/wharf-data (embedded PostgreSQL and S3)',
  );
});

test('with a database server and a bucket it names them, never the password', () => {
  const config = loadConfig({
    DATA_DIR: '/srv/wharf-data',
    PUBLIC_URL: 'https://updates.example.com',
    DATABASE_URL: 'postgres://wharf:s3cret@db1:5432,db2:5432/wharf',
    S3_BUCKET: 'releases',
    S3_ENDPOINT: 'http://minio:9000',
  });
  const line = startupLine(config, { host: '0.0.0.0', port: 8080 });
  expect(line).toBe(
    'Wharf is listening on http://0.0.0.0:8080 · first account: https://updates.example.com/signup · data: PostgreSQL at db1:5432,db2:5432/wharf, S3 bucket releases at minio:9000; DATA_DIR /srv/wharf-data',
  );
  expect(line).not.toContain('s3cret');
});
