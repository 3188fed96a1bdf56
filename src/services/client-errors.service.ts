/**
 * JavaScript errors reported by dashboard pages (window.onerror, unhandledrejection): checked, bounded and
 * logged at warn with the build (asset fingerprint) they came from. Nothing is stored; nothing else changes.
 */
import type { Logger } from '../logger';
import { RateLimitedError, ValidationError } from '../lib/errors';
import { LocalRateLimiter } from './rate-limits';

/** The body cap (also enforced by the route's parser before anything is read). */
export const CLIENT_ERROR_MAX_BYTES = 8 * 1024;
/** Per client IP: a page stuck in an error loop sends at most a burst of 10, then one every 6 s. */
const BURST = 10;
const PER_MINUTE = 10;

// `/assets/<name>.<12 hex>.<ext>`, as src/lib/assets.ts names files; the name may hold folders (build/editor).
const FINGERPRINTED = /\/assets\/((?:[\w-]+\/)*[\w-]+)\.([0-9a-f]{12})\.(js|css|svg)(?:$|[?#:])/;
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export interface ClientErrorReport {
  message: string;
  source: string | null;
  line: number | null;
  column: number | null;
  stack: string | null;
  page: string | null;
  asset: { name: string; fingerprint: string } | null;
}

const text = (v: unknown, max: number): string | null => (typeof v === 'string' && v !== '' ? v.replace(CONTROLS, '').slice(0, max) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1e9 ? v : null);

/** Paths only: a query string or fragment may carry anything. */
function pathOf(v: unknown): string | null {
  const s = text(v, 500);
  if (!s) return null;
  try {
    return new URL(s, 'http://x').pathname;
  } catch {
    return null;
  }
}

function assetOf(...candidates: (string | null)[]): { name: string; fingerprint: string } | null {
  for (const c of candidates) {
    const m = c ? FINGERPRINTED.exec(c) : null;
    if (m) return { name: `${m[1]}.${m[3]}`, fingerprint: m[2]! };
  }
  return null;
}

export class ClientErrorsService {
  private readonly limiter = new LocalRateLimiter(BURST, PER_MINUTE / 60);

  constructor(private readonly logger: Logger) {}

  /** Parses one report (JSON text, whatever the content type sendBeacon gave it) and logs it. */
  report(ip: string, body: string): ClientErrorReport {
    const wait = this.limiter.take(ip);
    if (wait > 0) throw new RateLimitedError(Math.ceil(wait), 'Too many error reports from this address; try again later.');
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      throw new ValidationError('Send a JSON object: { "message", "source", "line", "column", "stack", "page", "asset" }.');
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('Send a JSON object.');
    const r = raw as Record<string, unknown>;
    const message = text(r.message, 1000);
    if (!message) throw new ValidationError('Say what went wrong: "message" is required.', { message: 'Required.' });
    const source = text(r.source, 500);
    const stack = text(r.stack, 4000);
    const report: ClientErrorReport = {
      message,
      source: source && /^https?:/i.test(source) ? pathOf(source) : source,
      line: num(r.line),
      column: num(r.column),
      stack,
      page: pathOf(r.page),
      asset: assetOf(text(r.asset, 500), source, stack),
    };
    this.logger.warn({ clientError: report, build: report.asset?.fingerprint ?? null }, 'client error: a dashboard page reported a JavaScript error');
    return report;
  }
}
