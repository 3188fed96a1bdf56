import { createHmac } from 'node:crypto';
import { DownloadTokens, HmacSha256, tokenExpiry } from '../../../src/services/updates/download-tokens';

test('HmacSha256 gives the bytes createHmac gives, for short, block-sized and long secrets', () => {
  const messages = ['', 'download|abc', `download|${'x'.repeat(500)}`, 'y'.repeat(3000), 'short again'];
  for (const secret of ['k', 'a'.repeat(64), 'b'.repeat(65), 'c'.repeat(200)]) {
    const mac = new HmacSha256(secret);
    for (const m of messages) expect(mac.digest(m)).toBe(createHmac('sha256', secret).update(m).digest('base64url'));
  }
});

describe('download tokens', () => {
  const tokens = new DownloadTokens('a-secret-key-long-enough-for-the-bench-0123456789');
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  const claims = { productId: 'p1', versionId: 'v1', codeId: 'c1', host: 'shop.example.com', exp: tokenExpiry(now) };

  test('a signed token verifies to its claims, for any host length and no code', () => {
    expect(tokens.verify(tokens.sign(claims), now)).toEqual(claims);
    const long = { ...claims, codeId: null, host: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example` };
    expect(tokens.verify(tokens.sign(long), now)).toEqual(long);
    expect(tokens.sign(claims)).toBe(tokens.sign({ ...claims })); // deterministic: the same answer within a bucket
  });

  test('a token signed with another secret, or altered, is refused', () => {
    const other = new DownloadTokens('another-secret-key-long-enough-0123456789abcdef');
    expect(tokens.verify(other.sign(claims), now)).toEqual({ error: 'invalid_token' });
    const [payload, sig] = tokens.sign(claims).split('.') as [string, string];
    const forged = Buffer.from(`p1|v1|c1|evil.example|${claims.exp}`).toString('base64url');
    expect(tokens.verify(`${forged}.${sig}`, now)).toEqual({ error: 'invalid_token' });
    const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    expect(tokens.verify(`${payload}.${flipped}`, now)).toEqual({ error: 'invalid_token' });
  });

  test('an expired token is refused as expired', () => {
    expect(tokens.verify(tokens.sign(claims), claims.exp * 1000 + 1)).toEqual({ error: 'token_expired' });
  });
});
