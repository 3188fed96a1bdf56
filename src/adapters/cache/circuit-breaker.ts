/** A generic circuit breaker: after repeated failures stop calling a dependency for a cooldown. */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold?: number;
  /** First cooldown; doubled after every failed probe. */
  cooldownMs?: number;
  /** Upper bound for the doubled cooldown. */
  maxCooldownMs?: number;
  /** Injected clock so tests control time without timers. */
  now?: () => number;
  /** Called on every state change (logging, resetting connections). */
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly baseCooldownMs: number;
  private readonly maxCooldownMs: number;
  private readonly now: () => number;
  private readonly onStateChange: ((from: BreakerState, to: BreakerState) => void) | undefined;

  private current: BreakerState = 'closed';
  private failures = 0;
  private cooldownMs: number;
  private openUntil = 0;
  private probeStartedAt = 0;
  private openCount = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = Math.max(1, options.failureThreshold ?? 3);
    this.baseCooldownMs = Math.max(0, options.cooldownMs ?? 5_000);
    this.maxCooldownMs = Math.max(this.baseCooldownMs, options.maxCooldownMs ?? 60_000);
    this.now = options.now ?? Date.now;
    this.onStateChange = options.onStateChange;
    this.cooldownMs = this.baseCooldownMs;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** How many times the breaker has opened (including re-opens after a failed probe). */
  get opens(): number {
    return this.openCount;
  }

  /** Cooldown that applies to the current (or next) open period. */
  get currentCooldownMs(): number {
    return this.cooldownMs;
  }

  /** True when the caller may call the dependency now; in half-open only one probe is let through. */
  allow(): boolean {
    if (this.current === 'closed') return true;
    const now = this.now();
    if (this.current === 'open') {
      if (now < this.openUntil) return false;
      this.probeStartedAt = now;
      this.transition('half-open');
      return true;
    }
    // A probe whose result never came back must not wedge the breaker half-open forever.
    if (now - this.probeStartedAt >= this.cooldownMs) {
      this.probeStartedAt = now;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.cooldownMs = this.baseCooldownMs;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(): void {
    if (this.current === 'open') return; // late results of calls made before opening say nothing new
    if (this.current === 'half-open') {
      this.cooldownMs = Math.min(this.cooldownMs * 2, this.maxCooldownMs);
      this.open();
      return;
    }
    this.failures += 1;
    if (this.failures >= this.threshold) this.open();
  }

  private open(): void {
    this.failures = 0;
    this.openUntil = this.now() + this.cooldownMs;
    this.openCount += 1;
    this.transition('open');
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    this.current = to;
    this.onStateChange?.(from, to);
  }
}
