import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3GetPresigner } from '../../../src/adapters/storage/s3-get-presigner';

/** What S3Storage.presignGet asked the SDK for before: the reference the fast presigner must equal. */
function sdkUrl(client: S3Client, bucket: string, key: string, filename: string, expiresIn: number, signingDate: Date) {
  const safeName = filename.replace(/[^A-Za-z0-9._-]/g, '_');
  const command = new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: `attachment; filename="${safeName}"`, ResponseContentType: 'application/zip' });
  return getSignedUrl(client, command, { expiresIn, signingDate });
}

const configs: [string, S3ClientConfig][] = [
  ['embedded S3, path-style', { region: 'us-east-1', endpoint: 'http://127.0.0.1:4568', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }],
  ['AWS, virtual-hosted, session token', { region: 'eu-west-1', credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzE+token/with=chars' } }],
  ['MinIO over HTTPS on a port', { region: 'auto', endpoint: 'https://minio.example.com:9443', forcePathStyle: true, credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' } }],
];

const keys = ['products/3f2a/releases/9b1c.zip', 'a b+c/ü~x (1)!*\'.zip', 'deep/a/b/c/d.zip', 'x'];
const filenames = ['acme-forms-pro.zip', 'ünïcode name.zip', 'quote"and;semi.zip'];
const dates = [new Date('2026-12-01T10:00:00Z'), new Date('2026-12-01T23:59:59.999Z'), new Date('2026-12-02T00:00:00Z'), new Date('2031-02-28T12:34:56Z')];

describe.each(configs)('presigned download URLs: %s', (_name, config) => {
  const client = new S3Client(config);
  const bucket = 'wharf-releases';
  const fast = new S3GetPresigner(client, bucket);
  afterAll(() => client.destroy());

  test("byte for byte what the SDK's presigner makes, for every key, filename, expiry and day", async () => {
    for (const key of keys) {
      for (const filename of filenames) {
        for (const [i, now] of dates.entries()) {
          const expires = [300, 60, 3600, 604800][i]!;
          const ours = await fast.presign(key, { expiresSeconds: expires, filename, now });
          expect(ours).toBe(await sdkUrl(client, bucket, key, filename, expires, now));
        }
      }
    }
  });
});
