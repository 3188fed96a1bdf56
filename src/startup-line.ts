import type { Config } from './config';

/** The one plain line `npm start` prints on a terminal: where to go, and where the data lives. */
export function startupLine(config: Config, listening: { host: string; port: number }): string {
  const db = config.database.url ? `PostgreSQL at ${hostOf(config.database.url)}` : 'embedded PostgreSQL (PGlite)';
  const s3 = config.s3.embedded ? 'embedded S3' : `S3 bucket ${config.s3.bucket}${config.s3.endpoint ? ` at ${hostOf(config.s3.endpoint)}` : ''}`;
  const data = !config.database.url && config.s3.embedded ? `${config.dataDir} (embedded PostgreSQL and S3)` : `${db}, ${s3}; DATA_DIR ${config.dataDir}`;
  return `Wharf is listening on http://${listening.host}:${listening.port} · first account: ${config.publicUrl}/signup · data: ${data}`;
}

/** host[:port]/path of a URL (multi-host too), never its credentials or options. */
function hostOf(url: string): string {
  return url.replace(/^[a-z0-9+.-]+:\/\//i, '').replace(/^[^@/]*@/, '').replace(/[?#].*$/, '').replace(/\/$/, '');
}
