import crypto from 'node:crypto';
import { openFlash, sealFlash } from '../../../src/http/flash';

const key = crypto.randomBytes(32);
const flash = { kind: 'ok' as const, text: 'API key created.', secret: 'wharf_abc_123' };

test('a sealed flash opens only for its own session, unaltered, within two minutes', () => {
  const now = Date.now();
  const sealed = sealFlash(key, 's:session-a', flash, now);
  expect(sealed).not.toContain('wharf_abc');
  expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('API key');
  expect(openFlash(key, 's:session-a', sealed, now + 1000)).toEqual(flash);
  expect(openFlash(key, 's:session-b', sealed, now + 1000)).toBeNull();
  expect(openFlash(crypto.randomBytes(32), 's:session-a', sealed, now + 1000)).toBeNull();
  expect(openFlash(key, 's:session-a', sealed, now + 121_000)).toBeNull();
  const raw = Buffer.from(sealed, 'base64url');
  raw[raw.length - 1]! ^= 1;
  expect(openFlash(key, 's:session-a', raw.toString('base64url'), now)).toBeNull();
  for (const junk of ['', 'x', 'not base64 at all!', 'A'.repeat(40)]) expect(openFlash(key, 's:session-a', junk, now)).toBeNull();
});
