import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { checkPostPolicy } from '../../../src/adapters/storage/s3-gate/post-policy';
import { S3Error } from '../../../src/adapters/storage/s3-gate/s3-error';

const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret', region: 'us-east-1' };
const client = new S3Client({ region: 'us-east-1', endpoint: 'http://localhost:1', forcePathStyle: true, credentials: creds });
afterAll(() => client.destroy());

async function signed(key = 'uploads/a.zip', expires = 600) {
  const post = await createPresignedPost(client, {
    Bucket: 'wharf',
    Key: key,
    Conditions: [['content-length-range', 1, 1000], ['eq', '$Content-Type', 'application/zip'], ['starts-with', '$x-amz-meta-tag', 'ok-']],
    Fields: { 'Content-Type': 'application/zip', 'x-amz-meta-tag': 'ok-1' },
    Expires: expires,
  });
  return new Map(Object.entries(post.fields).map(([k, v]) => [k.toLowerCase(), v]));
}

const code = (p: Promise<unknown>) => p.then(() => 'allowed', (e: unknown) => (e instanceof S3Error ? `${e.status} ${e.code}` : `crash: ${String(e)}`));

test('a POST as signed is allowed, with its key, content type and size range', async () => {
  expect(await checkPostPolicy(await signed(), 'wharf', creds)).toEqual({ key: 'uploads/a.zip', contentType: 'application/zip', minBytes: 1, maxBytes: 1000, successStatus: 204, successRedirect: undefined });
});

test.each<[string, (f: Map<string, string>) => void, string]>([
  ['another key', (f) => f.set('key', 'uploads/b.zip'), '403 AccessDenied'],
  ['another content type', (f) => f.set('content-type', 'text/html'), '403 AccessDenied'],
  ['a value outside starts-with', (f) => f.set('x-amz-meta-tag', 'evil'), '403 AccessDenied'],
  ['an unlisted field', (f) => f.set('acl', 'public-read'), '403 AccessDenied'],
  ['another secret', (f) => f.set('x-amz-signature', '0'.repeat(64)), '403 SignatureDoesNotMatch'],
  ['another access key', (f) => f.set('x-amz-credential', f.get('x-amz-credential')!.replace('AKID', 'OTHER')), '403 InvalidAccessKeyId'],
  ['another region', (f) => f.set('x-amz-credential', f.get('x-amz-credential')!.replace('us-east-1', 'eu-west-1')), '400 AuthorizationHeaderMalformed'],
  ['no policy', (f) => f.delete('policy'), '403 AccessDenied'],
  ['no key', (f) => f.delete('key'), '400 InvalidArgument'],
])('%s is refused', async (_label, change, expected) => {
  const fields = await signed();
  change(fields);
  expect(await code(checkPostPolicy(fields, 'wharf', creds))).toBe(expected);
});

test('the policy is for one bucket and expires', async () => {
  expect(await code(checkPostPolicy(await signed(), 'other-bucket', creds))).toBe('403 AccessDenied');
  expect(await code(checkPostPolicy(await signed(), 'wharf', creds, new Date(Date.now() + 3600_000)))).toBe('403 AccessDenied');
});

test('fuzzing: garbage fields and policies only ever give S3 errors', async () => {
  const base = await signed();
  const junk = ['', 'null', '[]', '{}', '{"expiration":"x","conditions":1}', '{"expiration":"2999-01-01T00:00:00Z","conditions":[["content-length-range","a",1],{"a":1,"b":2}]}', '%%%', 'A'.repeat(20_000)];
  for (const policy of junk) {
    for (const encode of [true, false]) {
      const f = new Map(base);
      f.set('policy', encode ? Buffer.from(policy).toString('base64') : policy);
      const outcome = await code(checkPostPolicy(f, 'wharf', creds));
      expect(outcome).toMatch(/^(400|403) /);
    }
  }
  for (const field of ['x-amz-date', 'x-amz-algorithm', 'x-amz-credential', 'key']) {
    for (const value of ['', '\u0000', 'x'.repeat(5000), '20250101T000000Z', 'a/b/c/d/e/f']) {
      const f = new Map(base);
      f.set(field, value);
      expect(await code(checkPostPolicy(f, 'wharf', creds))).toMatch(/^(400|403) /);
    }
  }
});
