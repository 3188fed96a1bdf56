import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A refusal in S3's own words: clients and SDKs read the code from the XML body. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const accessDenied = (message: string) => new S3Error(403, 'AccessDenied', message);
export const signatureMismatch = () =>
  new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');

const escapeXml = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

export function xmlDocument(root: string, fields: Record<string, string>): string {
  const body = Object.entries(fields).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${body}</${root}>`;
}

/** Writes the error (no body for HEAD, as S3 does); closes the connection when the request body was not read. */
export function sendS3Error(res: ServerResponse, err: S3Error, opts: { head?: boolean; close?: boolean } = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = xmlDocument('Error', { Code: err.code, Message: err.message, RequestId: crypto.randomBytes(8).toString('hex').toUpperCase() });
  res.writeHead(err.status, {
    'content-type': 'application/xml',
    'content-length': opts.head ? 0 : Buffer.byteLength(body),
    ...(opts.close ? { connection: 'close' } : {}),
  });
  res.end(opts.head ? undefined : body);
}
