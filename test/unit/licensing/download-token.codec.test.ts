import { createHmac } from 'node:crypto';
import { DownloadTokens, HmacSha256, tokenExpiry } from '../../../src/services/licensing/download-token.codec';

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

describe('only the canonical spelling of a token is accepted', () => {
  const secret = 'a-secret-key-long-enough-for-the-bench-0123456789';
  const tokens = new DownloadTokens(secret);
  // A valid MAC over any spelling: what a careless signer could have issued. Still refused.
  const signed = (p: string) => `${p}.${new HmacSha256(secret).digest(`download|${p}`).slice(0, 32)}`;
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  const token = tokens.sign({ productId: 'p1', versionId: 'v1', codeId: 'c1', host: 'shop.example.com', exp: tokenExpiry(now) });
  const [payload, sig] = token.split('.') as [string, string];

  test('non-ASCII characters whose latin1 byte is an ASCII one are refused (the MAC reads latin1)', () => {
    for (let i = 0; i < payload.length; i += 7) {
      const c = payload.charCodeAt(i);
      for (const alias of [c + 0x100, c + 0x4100, c + 0xff00 < 0x10000 ? c + 0xff00 : c + 0x100]) {
        const altered = `${payload.slice(0, i)}${String.fromCharCode(alias)}${payload.slice(i + 1)}.${sig}`;
        expect(tokens.verify(altered, now)).toEqual({ error: 'invalid_token' });
      }
    }
    const sigAlias = `${payload}.${String.fromCharCode(sig.charCodeAt(0) + 0x100)}${sig.slice(1)}`;
    expect(tokens.verify(sigAlias, now)).toEqual({ error: 'invalid_token' });
  });

  test('base64 padding, the standard alphabet, stray characters and non-zero trailing bits are refused', () => {
    const bytes = Buffer.from(payload, 'base64url');
    const variants = [
      `${payload}=`,
      `${payload}==`,
      bytes.toString('base64').replace(/=+$/, ''), // '+' and '/' where base64url has '-' and '_'
      `${payload.slice(0, 5)} ${payload.slice(5)}`,
      `${payload}\n`,
      `${payload}%41`,
    ];
    // The same bytes spelled with non-zero unused bits in the last character.
    const last = payload.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = (payload.length * 6) % 8; // bits of the last character that carry no data
    if (spare) for (let bit = 1; bit < 1 << spare; bit++) variants.push(payload.slice(0, -1) + alphabet[alphabet.indexOf(last) | bit]!);
    for (const v of variants) {
      if (v === payload) continue;
      // Each decodes to the very same claims and carries a valid MAC: only the spelling differs.
      expect(tokens.verify(signed(v), now)).toEqual({ error: 'invalid_token' });
    }
    expect(signed(payload)).toBe(token);
    expect(tokens.verify(`${payload}.${sig}=`, now)).toEqual({ error: 'invalid_token' });
    expect(tokens.verify(token, now)).not.toHaveProperty('error');
  });
});
