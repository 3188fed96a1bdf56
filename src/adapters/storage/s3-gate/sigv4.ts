/** Recomputes AWS Signature V4 (header or presigned query) with the SDK's own signer and compares. */
import crypto from 'node:crypto';
import { Hash } from '@smithy/core/serde';
import { getSigningKey, SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { accessDenied, S3Error, signatureMismatch } from './s3-error';

export interface GateCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface IncomingSigned {
  method: string;
  /** Path exactly as sent (still percent-encoded) and the raw query string. */
  path: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
}

const sha256 = Hash.bind(null, 'sha256');
const MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AUTH_QUERY = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

const signer = (c: GateCredentials) =>
  new SignatureV4({ credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, region: c.region, service: 's3', sha256, uriEscapePath: false, applyChecksum: false });

/** `20250101T120000Z` → Date, or null. */
export function parseAmzDate(s: string | undefined): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `AKID/20250101/us-east-1/s3/aws4_request`, checked against our key and region and the request's date. */
export function checkCredential(credential: string | undefined, date: Date, c: GateCredentials): void {
  const parts = (credential ?? '').split('/');
  if (parts.length !== 5 || parts[3] !== 's3' || parts[4] !== 'aws4_request') throw new S3Error(400, 'AuthorizationQueryParametersError', 'The credential is malformed.');
  if (parts[0] !== c.accessKeyId) throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (parts[2] !== c.region) throw new S3Error(400, 'AuthorizationHeaderMalformed', `The region '${parts[2]}' is wrong; expecting '${c.region}'.`);
  if (parts[1] !== date.toISOString().slice(0, 10).replace(/-/g, '')) throw signatureMismatch();
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Query string → decoded parameters (repeated keys become arrays); `+` is literal, as S3 signs it. */
export function parseQuery(raw: string): QueryParameterBag {
  const out: QueryParameterBag = {};
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      v = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw new S3Error(400, 'InvalidArgument', 'The query string is not valid percent-encoding.');
    }
    const prev = out[k];
    out[k] = prev === undefined || prev === null ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function signedHeaderValues(names: string[], headers: IncomingSigned['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = headers[name];
    if (v === undefined) throw signatureMismatch();
    out[name] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

function baseRequest(req: IncomingSigned, query: QueryParameterBag, headers: Record<string, string>): HttpRequest {
  const host = String(req.headers.host ?? '');
  return { method: req.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path: req.path, query, headers };
}

/** An `Authorization: AWS4-HMAC-SHA256 …` request; returns the declared payload hash (checked later against the body). */
export async function verifyHeaderSignature(req: IncomingSigned, c: GateCredentials, now = new Date()): Promise<string> {
  const m = AUTH_RE.exec(String(req.headers.authorization ?? ''));
  if (!m) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  const [, credential, signedList, signature] = m;
  const date = parseAmzDate(String(req.headers['x-amz-date'] ?? ''));
  if (!date) throw accessDenied('AWS authentication requires a valid x-amz-date header.');
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  checkCredential(credential, date, c);
  const names = signedList!.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!names.includes(required)) throw accessDenied(`The ${required} header must be signed.`);
  }
  const headers = signedHeaderValues(names, req.headers);
  const signed = await signer(c).sign(baseRequest(req, parseQuery(req.rawQuery), headers), { signingDate: date, signableHeaders: new Set(names) });
  const computed = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  if (!sameHex(computed, signature!)) throw signatureMismatch();
  return headers['x-amz-content-sha256']!;
}

const single = (q: QueryParameterBag, k: string): string | undefined => {
  const v = q[k];
  return typeof v === 'string' ? v : undefined;
};

/** A presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&…&X-Amz-Signature=…`), expiry included. */
export async function verifyPresigned(req: IncomingSigned, c: GateCredentials, now = new Date()): Promise<void> {
  const query = parseQuery(req.rawQuery);
  const [algorithm, credential, amzDate, expires, signedList, signature] = AUTH_QUERY.map((k) => single(query, k));
  if (algorithm !== 'AWS4-HMAC-SHA256' || !signature || !signedList || !expires) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'The presigned URL is missing or repeats an X-Amz parameter.');
  }
  if ('X-Amz-Security-Token' in query) throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  const date = parseAmzDate(amzDate);
  const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!date || !(seconds >= 1 && seconds <= MAX_PRESIGN_SECONDS)) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Date or X-Amz-Expires is not valid.');
  }
  if (now.getTime() > date.getTime() + seconds * 1000) throw accessDenied('Request has expired');
  if (date.getTime() > now.getTime() + MAX_SKEW_MS) throw accessDenied('Request is not yet valid');
  checkCredential(credential, date, c);
  const names = signedList.split(';');
  if (!names.includes('host')) throw accessDenied('The host header must be signed.');
  const rest: QueryParameterBag = { ...query };
  for (const k of AUTH_QUERY) delete rest[k];
  // Presigned S3 URLs sign an unsigned payload; the SDK marks that header unsignable and keeps it out of the query.
  const headers = { ...signedHeaderValues(names, req.headers), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const presigned = await signer(c).presign(baseRequest(req, rest, headers), {
    signingDate: date,
    expiresIn: seconds,
    signableHeaders: new Set(names),
    unsignableHeaders: new Set(['x-amz-content-sha256']),
    unhoistableHeaders: new Set([...names.filter((n) => n.startsWith('x-amz-')), 'x-amz-content-sha256']),
  });
  if (!sameHex(String(presigned.query?.['X-Amz-Signature'] ?? ''), signature)) throw signatureMismatch();
}

/** hex HMAC-SHA256 of a POST policy with the SigV4 signing key of its credential's day. */
export async function policySignature(policyBase64: string, shortDate: string, c: GateCredentials): Promise<string> {
  const key = await getSigningKey(sha256, { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, shortDate, c.region, 's3');
  const mac = new Hash('sha256', key);
  mac.update(policyBase64);
  return Buffer.from(await mac.digest()).toString('hex');
}
