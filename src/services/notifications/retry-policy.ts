/** Status codes worth trying again: the receiver is overloaded, down or asked us to wait. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** After this many final failures in a row, an endpoint is disabled. */
export const DISABLE_AFTER_FAILURES = 20;
const MAX_DELAY_MS = 4 * 3600_000;

/**
 * Exponential backoff with jitter: attempt n waits base·2^(n−1), capped at 4 h, scaled by a random
 * factor in [0.5, 1) so receivers recovering from an outage are not hit in lockstep; never sooner
 * than the receiver's Retry-After.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, retryAfterMs: number | null, random = Math.random()): number {
  const exp = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  const jittered = Math.round(exp * (0.5 + random * 0.5));
  return Math.max(jittered, retryAfterMs ?? 0);
}
