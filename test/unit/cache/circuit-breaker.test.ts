import { type BreakerState, CircuitBreaker } from '../../../src/adapters/cache/circuit-breaker';

function setup(options: { failureThreshold?: number; cooldownMs?: number; maxCooldownMs?: number } = {}) {
  const clock = { t: 1_000_000 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    ...options,
    now: () => clock.t,
    onStateChange: (from: BreakerState, to: BreakerState) => changes.push(`${from}->${to}`),
  });
  return { clock, changes, breaker };
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) {
    expect(breaker.allow()).toBe(true);
    breaker.failure();
  }
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and a success resets the count', () => {
    const { breaker } = setup();
    fail(breaker, 2);
    breaker.success();
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.opens).toBe(0);
  });

  it('opens after 3 consecutive failures and rejects calls during the cooldown', () => {
    const { breaker, clock, changes } = setup();
    fail(breaker, 3);
    expect(breaker.state).toBe('open');
    expect(breaker.opens).toBe(1);
    expect(changes).toEqual(['closed->open']);
    clock.t += 4_999;
    expect(breaker.allow()).toBe(false);
  });

  it('lets exactly one probe through after the cooldown (half-open)', () => {
    const { breaker, clock } = setup();
    fail(breaker, 3);
    clock.t += 5_000;
    expect(breaker.allow()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.allow()).toBe(false);
    expect(breaker.allow()).toBe(false);
  });

  it('closes after a successful probe and starts over with the base cooldown', () => {
    const { breaker, clock, changes } = setup();
    fail(breaker, 3);
    clock.t += 5_000;
    breaker.allow();
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.currentCooldownMs).toBe(5_000);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    fail(breaker, 3);
    clock.t += 5_000;
    expect(breaker.allow()).toBe(true);
  });

  it('doubles the cooldown after each failed probe, up to the maximum', () => {
    const { breaker, clock } = setup({ cooldownMs: 5_000, maxCooldownMs: 60_000 });
    fail(breaker, 3);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.t += breaker.currentCooldownMs - 1;
      expect(breaker.allow()).toBe(false);
      clock.t += 1;
      expect(breaker.allow()).toBe(true);
      breaker.failure();
      expect(breaker.state).toBe('open');
      seen.push(breaker.currentCooldownMs);
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    expect(breaker.opens).toBe(7);
  });

  it('ignores late failures while open (they do not extend the cooldown)', () => {
    const { breaker, clock } = setup();
    fail(breaker, 3);
    breaker.failure();
    breaker.failure();
    expect(breaker.opens).toBe(1);
    clock.t += 5_000;
    expect(breaker.allow()).toBe(true);
  });

  it('lets another probe through if the first one never reported back', () => {
    const { breaker, clock } = setup();
    fail(breaker, 3);
    clock.t += 5_000;
    expect(breaker.allow()).toBe(true);
    clock.t += 4_999;
    expect(breaker.allow()).toBe(false);
    clock.t += 1;
    expect(breaker.allow()).toBe(true);
  });

  it('honours a custom threshold', () => {
    const { breaker } = setup({ failureThreshold: 1 });
    fail(breaker, 1);
    expect(breaker.state).toBe('open');
  });
});
