/** Checks a browser POST's form fields against its signed policy, the way S3 does (signature, expiry, every condition). */
import { S3Error, accessDenied } from './s3-error';
import { checkCredential, parseAmzDate, policySignature, sameHex, type GateCredentials } from './sigv4';

/** What the upload may be, once the policy allowed it. */
export interface AllowedUpload {
  key: string;
  contentType: string | undefined;
  minBytes: number;
  maxBytes: number;
  successStatus: 200 | 201 | 204;
  successRedirect: string | undefined;
}

/** S3's ceiling for a single POST upload. */
export const MAX_POST_BYTES = 5 * 1024 ** 3;
// Fields the policy need not mention (S3's rule), besides x-ignore-* ones.
const EXEMPT = new Set(['policy', 'x-amz-signature', 'file']);

const policyFailed = (what: string) => accessDenied(`Invalid according to Policy: ${what}`);
const malformed = (what: string) => new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${what}`);

type Condition = { field: string; op: 'eq' | 'starts-with'; value: string } | { range: [number, number] };

function parseConditions(raw: unknown): Condition[] {
  if (!Array.isArray(raw)) throw malformed('conditions must be an array.');
  return raw.map((c): Condition => {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      const name = String(op).toLowerCase();
      if (name === 'content-length-range') {
        const [min, max] = [Number(a), Number(b)];
        if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) throw malformed('bad content-length-range.');
        return { range: [min, max] };
      }
      if (c.length !== 3 || (name !== 'eq' && name !== 'starts-with') || typeof a !== 'string' || !a.startsWith('$') || typeof b !== 'string') {
        throw malformed(`unsupported condition ${JSON.stringify(c).slice(0, 200)}.`);
      }
      return { field: a.slice(1).toLowerCase(), op: name, value: b };
    }
    if (c && typeof c === 'object' && Object.keys(c).length === 1) {
      const [[field, value]] = Object.entries(c as Record<string, unknown>) as [[string, unknown]];
      if (typeof value !== 'string') throw malformed(`condition ${field} must be a string.`);
      return { field: field.toLowerCase(), op: 'eq', value };
    }
    throw malformed('each condition must be an object with one field or an array.');
  });
}

function decodePolicy(base64: string): { expiration: unknown; conditions: unknown } {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw malformed('the policy is not base64.');
  try {
    const doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as { expiration: unknown; conditions: unknown };
    if (!doc || typeof doc !== 'object') throw new Error('not an object');
    return doc;
  } catch {
    throw malformed('the policy is not a JSON document.');
  }
}

/**
 * fields: the form fields that came before the file, names lower-cased. bucket: the bucket in the URL.
 * Throws S3Error (403 for a policy that does not allow this upload, 400 for a malformed one).
 */
export async function checkPostPolicy(fields: Map<string, string>, bucket: string, c: GateCredentials, now = new Date()): Promise<AllowedUpload> {
  const policy = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  if (!policy || !signature) throw accessDenied('Anonymous POST uploads are not allowed: a signed policy is required.');
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') throw new S3Error(400, 'InvalidArgument', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256.');
  const date = parseAmzDate(fields.get('x-amz-date'));
  if (!date) throw new S3Error(400, 'InvalidArgument', 'X-Amz-Date is missing or malformed.');
  checkCredential(fields.get('x-amz-credential'), date, c);
  const shortDate = fields.get('x-amz-credential')!.split('/')[1]!;
  if (!sameHex(await policySignature(policy, shortDate, c), signature)) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }

  const doc = decodePolicy(policy);
  const expires = typeof doc.expiration === 'string' ? Date.parse(doc.expiration) : NaN;
  if (!Number.isFinite(expires)) throw malformed('expiration is missing or not a date.');
  if (expires <= now.getTime()) throw policyFailed('Policy expired.');

  const conditions = parseConditions(doc.conditions);
  const key = fields.get('key');
  if (key === undefined || key === '') throw new S3Error(400, 'InvalidArgument', 'Bucket POST must contain a field named key.');
  let [minBytes, maxBytes] = [0, MAX_POST_BYTES];
  const covered = new Set<string>();
  for (const cond of conditions) {
    if ('range' in cond) {
      [minBytes, maxBytes] = [cond.range[0], Math.min(cond.range[1], MAX_POST_BYTES)];
      continue;
    }
    const actual = cond.field === 'bucket' ? bucket : (fields.get(cond.field) ?? '');
    const ok = cond.op === 'eq' ? actual === cond.value : actual.startsWith(cond.value);
    if (!ok) throw policyFailed(`Policy Condition failed: ["${cond.op}", "$${cond.field}", ${JSON.stringify(cond.value)}]`);
    covered.add(cond.field);
  }
  for (const name of fields.keys()) {
    if (!EXEMPT.has(name) && !name.startsWith('x-ignore-') && !covered.has(name)) throw policyFailed(`Extra input fields: ${name}`);
  }
  const status = fields.get('success_action_status');
  const redirect = fields.get('success_action_redirect');
  return {
    key,
    contentType: fields.get('content-type'),
    minBytes,
    maxBytes,
    successStatus: status === '200' ? 200 : status === '201' ? 201 : 204,
    successRedirect: redirect && /^https?:\/\//i.test(redirect) ? redirect : undefined,
  };
}
