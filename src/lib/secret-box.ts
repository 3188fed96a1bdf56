import crypto from 'node:crypto';

/**
 * Encrypts secrets at rest (provider tokens, webhook secrets) with AES-256-GCM under a key derived
 * from SECRET_KEY by HKDF-SHA256 for this one purpose: a database dump alone reveals nothing, and
 * tampering with a stored value makes it fail to open rather than decrypt to something else.
 * Format: `v1.<iv>.<ciphertext>.<tag>` (base64url).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secretKey: string, purpose = 'wharf repository secrets v1') {
    this.key = Buffer.from(crypto.hkdfSync('sha256', secretKey, 'wharf', purpose, 32));
  }

  seal(plain: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), data.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [v, iv, data, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || data === undefined || !tag) throw new Error('sealed secret: unknown format');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}
