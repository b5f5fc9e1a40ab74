/**
 * A send SES kept throttling (record-outcome's DEFERRED): nothing was sent, so the touchpoint goes back to PENDING
 * with a growing, jittered backoff, and only a spent deferral budget ends it FAILED with the reason.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { deferralDelaySeconds, MAX_SEND_DEFERRALS, recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { InMemoryTouchpoints, pendingTouchpoint } from '../fakes.ts';

const ID = 'tp-throttled';
const THROTTLED = { Error: 'SesV2.TooManyRequestsException', Cause: 'Maximum sending rate exceeded.' };


describe('deferring a throttled send', () => {
  let touchpoints: InMemoryTouchpoints;

  /** Claims the touchpoint as dispatch-due does, then records DEFERRED for its current generation at `now`. */
  async function deferOnce(now: string, random = () => 0.5) {
    const stored = (await touchpoints.get(ID))!;
    await touchpoints.claimForDispatch({ touchpointId: ID, generation: stored.generation, from: 'PENDING', at: now, leaseUntil: now });
    return recordTouchpointOutcome({ touchpointId: ID, generation: stored.generation, now, outcome: 'DEFERRED', error: THROTTLED }, { touchpoints, random });
  }

  beforeEach(async () => {
    touchpoints = new InMemoryTouchpoints();
    await touchpoints.create(pendingTouchpoint(ID));
  });

  it('goes back to PENDING, in the due index, after a minute or less, counting the deferral', async () => {
    // Act
    const result = await deferOnce('2026-11-23T10:00:05.000Z', () => 0.5);

    // Assess
    expect(result).toEqual({ outcome: 'DEFERRED', recorded: true });
    const stored = await touchpoints.get(ID);
    expect(stored).toMatchObject({ status: 'PENDING', generation: 1, sendDeferrals: 1, reason: 'deferred: SesV2.TooManyRequestsException' });
    // 60 s ceiling, equal jitter at 0.5: 30 + 15 = 45 s.
    expect(stored?.dueAt).toBe('2026-11-23T10:00:50.000Z');
    expect(await touchpoints.listDue(touchpoints.items.get(ID)!.dueShard!, '2026-11-23T10:00:50.000Z', 10)).toHaveLength(1);
  });

  it('a repeated DEFERRED for the same generation changes nothing', async () => {
    // Prepare
    const now = '2026-11-23T10:00:05.000Z';
    await deferOnce(now);
    const after = structuredClone(await touchpoints.get(ID));

    // Act
    const repeated = await recordTouchpointOutcome({ touchpointId: ID, generation: 0, now, outcome: 'DEFERRED', error: THROTTLED }, { touchpoints });

    // Assess
    expect(repeated).toEqual({ outcome: 'DEFERRED', recorded: false });
    expect(await touchpoints.get(ID)).toEqual(after);
  });

  it(`ends FAILED with the reason once ${MAX_SEND_DEFERRALS} deferrals are spent, never before`, async () => {
    // Prepare
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    const results = [];

    // Act
    for (let attempt = 0; attempt <= MAX_SEND_DEFERRALS; attempt++) {
      now += 3_600_000;
      results.push(await deferOnce(new Date(now).toISOString()));
    }

    // Assess
    expect(results.slice(0, MAX_SEND_DEFERRALS).every((r) => r.outcome === 'DEFERRED' && r.recorded)).toBe(true);
    expect(results[MAX_SEND_DEFERRALS]).toEqual({ outcome: 'FAILED', recorded: true });
    const stored = await touchpoints.get(ID);
    expect(stored).toMatchObject({ status: 'FAILED', sendDeferrals: MAX_SEND_DEFERRALS });
    expect(stored?.reason).toBe(`SesV2.TooManyRequestsException: Maximum sending rate exceeded. (still not sent after ${MAX_SEND_DEFERRALS} deferrals)`);
  });

  it('backs off doubling from a minute to at most 30 minutes, half of it jittered', () => {
    // Act
    const lowest = Array.from({ length: 9 }, (_, n) => deferralDelaySeconds(n, () => 0));
    const highest = Array.from({ length: 9 }, (_, n) => deferralDelaySeconds(n, () => 0.999999));

    // Assess
    expect(lowest).toEqual([30, 60, 120, 240, 480, 900, 900, 900, 900]);
    expect(highest).toEqual([60, 120, 240, 480, 960, 1800, 1800, 1800, 1800]);
  });
});
