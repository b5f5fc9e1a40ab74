/** The send-rate budget's token bucket, on a fake clock: a burst, then the rate, then the window's end. */
import { describe, expect, it } from 'vitest';
import { RatePacer } from '../../../adapters/rate-pacer.ts';

/** A clock that only moves when the pacer sleeps. */
function fakeTime() {
  const clock = { now: 0, slept: [] as number[] };
  return {
    clock,
    nowMs: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
}

describe('RatePacer', () => {
  it('grants one second’s worth at once, then one start per 1/rate seconds', async () => {
    // Prepare
    const time = fakeTime();
    const pacer = new RatePacer({ perSecond: 10, windowMs: 60_000, nowMs: time.nowMs, sleep: time.sleep });

    // Act
    const grantedAt: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      await pacer.take();
      grantedAt.push(time.clock.now);
    }

    // Assess
    expect(grantedAt.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(grantedAt.slice(10)).toEqual([100, 200, 300, 400, 500]);
  });

  it('never grants more than rate × window + burst in a window, then answers false', async () => {
    // Prepare
    const time = fakeTime();
    const pacer = new RatePacer({ perSecond: 5, windowMs: 10_000, nowMs: time.nowMs, sleep: time.sleep });

    // Act
    let granted = 0;
    while (await pacer.take()) granted += 1;

    // Assess
    expect(granted).toBe(5 + 5 * 10 - 1);
    expect(time.clock.now).toBeLessThan(10_000);
  });

  it('serves concurrent takers in order, each start spaced by the rate', async () => {
    // Prepare
    const time = fakeTime();
    const pacer = new RatePacer({ perSecond: 2, windowMs: 60_000, burst: 1, nowMs: time.nowMs, sleep: time.sleep });

    // Act
    const order: number[] = [];
    await Promise.all([0, 1, 2].map(async (i) => (await pacer.take()) && order.push(i)));

    // Assess
    expect(order).toEqual([0, 1, 2]);
    expect(time.clock.slept).toEqual([500, 500]);
  });

  it('refuses a rate of 0', () => {
    expect(() => new RatePacer({ perSecond: 0, windowMs: 1000 })).toThrow('the send rate must be above 0 per second, got 0');
  });
});
