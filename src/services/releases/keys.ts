import crypto from 'node:crypto';

/**
 * Where objects live. Presigned POSTs only ever name upload keys (`…/releases/<uploadId>.zip`);
 * released objects are server-side copies under `…/versions/`, a prefix no policy names, with a
 * random suffix, so no vendor can ever upload onto a release.
 */
export function uploadKey(userId: string, productId: string, uploadId: string): string {
  return `vendors/${userId}/products/${productId}/releases/${uploadId}.zip`;
}

export function releaseKey(userId: string, productId: string, versionId: string): string {
  return `vendors/${userId}/products/${productId}/versions/${versionId}-${crypto.randomBytes(8).toString('hex')}.zip`;
}
