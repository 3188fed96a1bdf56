import { createHash, createHmac } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface PresignGetOptions {
  expiresSeconds: number;
  filename: string;
  /** Signing time (tests); now by default. */
  now?: Date;
}

interface Base {
  origin: string;
  /** The path before the key: `/<bucket>/` path-style, `/` virtual-hosted. */
  prefix: string;
  host: string;
  region: string;
}

interface Identity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  /** Resolve again after this (epoch ms). */
  until: number;
}

// RFC 3986 unreserved characters stay; everything else is percent-encoded (as the SDK's escapeUri does).
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Presigned S3 GET URLs (SigV4 query signing) without the SDK's per-call middleware stack: the
 * signing key is derived once per day and region, the endpoint and addressing style are taken
 * once from a URL the SDK's own presigner made. The same bytes as `getSignedUrl` (a test compares).
 */
export class S3GetPresigner {
  private base: Promise<Base> | undefined;
  private identity: Identity | undefined;
  private signingKey: { scope: string; secret: string; key: Buffer } | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async presign(key: string, o: PresignGetOptions): Promise<string> {
    const { origin, prefix, host, region } = await (this.base ??= this.probe());
    const id = this.identity && this.identity.until > Date.now() ? this.identity : await this.resolveIdentity();
    const now = o.now ?? new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${region}/s3/aws4_request`;
    // Everything but the date, expiry and signature is the same from one download to the next: escaped once.
    const fixed = this.fixedParts(id, prefix, key, o.filename, scope);
    const signedQuery = `${fixed.head}&X-Amz-Date=${amzDate}&X-Amz-Expires=${o.expiresSeconds}${fixed.token}&X-Amz-SignedHeaders=host${fixed.tail}`;
    const canonicalRequest = `GET\n${fixed.path}\n${signedQuery}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', this.keyFor(scope, day, region, id.secretAccessKey)).update(stringToSign).digest('hex');
    // Sorted by name, as the canonical query is: X-Amz-Signature falls just before X-Amz-SignedHeaders.
    return `${origin}${fixed.path}?${fixed.head}&X-Amz-Date=${amzDate}&X-Amz-Expires=${o.expiresSeconds}${fixed.token}&X-Amz-Signature=${signature}&X-Amz-SignedHeaders=host${fixed.tail}`;
  }

  private fixed: { key: string; filename: string; scope: string; id: Identity; parts: { path: string; head: string; token: string; tail: string } } | undefined;

  /** The escaped constant parts of the canonical query (sorted by name), for one key, file name, day and identity. */
  private fixedParts(id: Identity, prefix: string, key: string, filename: string, scope: string) {
    const f = this.fixed;
    if (f && f.key === key && f.filename === filename && f.scope === scope && f.id === id) return f.parts;
    const safeName = filename.replace(/[^A-Za-z0-9._-]/g, '_');
    const parts = {
      path: `${prefix}${key.split('/').map(escape).join('/')}`,
      head: `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=${escape(`${id.accessKeyId}/${scope}`)}`,
      token: id.sessionToken ? `&X-Amz-Security-Token=${escape(id.sessionToken)}` : '',
      tail: `&response-content-disposition=${escape(`attachment; filename="${safeName}"`)}&response-content-type=${escape('application/zip')}&x-amz-checksum-mode=ENABLED&x-id=GetObject`,
    };
    this.fixed = { key, filename, scope, id, parts };
    return parts;
  }

  /** kSigning = HMAC chain over day, region, service: the same for every URL signed that day. */
  private keyFor(scope: string, day: string, region: string, secret: string): Buffer {
    if (this.signingKey?.scope !== scope || this.signingKey.secret !== secret) {
      const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
      this.signingKey = { scope, secret, key };
    }
    return this.signingKey.key;
  }

  /** Credentials from the client's provider chain, kept until five minutes before they expire. */
  private async resolveIdentity(): Promise<Identity> {
    const c = await this.client.config.credentials();
    const until = c.expiration ? c.expiration.getTime() - 5 * 60_000 : Number.POSITIVE_INFINITY;
    this.identity = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, until };
    return this.identity;
  }

  /** Endpoint, addressing style and region, as the SDK resolves them for this bucket. */
  private async probe(): Promise<Base> {
    const probeKey = 'wharf-presign-probe';
    const url = new URL(await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: probeKey }), { expiresIn: 60 }));
    const region = decodeURIComponent(url.searchParams.get('X-Amz-Credential') ?? '').split('/')[2];
    if (!url.pathname.endsWith(probeKey) || !region) throw new Error(`unexpected presigned URL shape from the S3 SDK: ${url.origin}${url.pathname}`);
    return { origin: url.origin, prefix: url.pathname.slice(0, -probeKey.length), host: url.host, region };
  }
}
