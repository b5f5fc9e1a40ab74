import { describe, expect, it } from 'vitest';
import {
  numberChanges,
  outcomeChanges,
  purchaseChanges,
  sendChange,
  settlePendingCounts,
  type CounterChange,
  type MetricsCounterStore,
} from '../../../core/metrics/counters.ts';
import { recordOutcome, recordPurchase, surveySentDelta } from '../../../core/metrics/model.ts';
import { InMemoryMetricsCounters, InMemoryPendingCounts } from './fake-counters.ts';

const NOW = '2026-03-01T10:00:00.000Z';
const sent = (token: string, day = '2026-03-01T09:00:00Z') =>
  numberChanges(token, [sendChange(surveySentDelta({ campaignId: 'nps', kind: 'nps', sentAt: day }))]);

/** Crashes the n-th call of `operation` (after it took effect when `after`). */
class CrashingCounters implements MetricsCounterStore {
  calls = 0;
  constructor(
    readonly inner: InMemoryMetricsCounters,
    private readonly operation: 'apply' | 'release',
    private readonly nth: number,
    private readonly after: boolean,
  ) {}
  async apply(change: CounterChange) {
    return this.around('apply', () => this.inner.apply(change));
  }
  async release(change: CounterChange) {
    return this.around('release', () => this.inner.release(change));
  }
  private async around<T>(operation: string, action: () => Promise<T>): Promise<T> {
    if (operation === this.operation) this.calls += 1;
    const crash = operation === this.operation && this.calls === this.nth;
    if (crash && !this.after) throw new Error('crash before');
    const result = await action();
    if (crash) throw new Error('crash after');
    return result;
  }
}

describe('numberChanges and the change builders', () => {
  it('numbers changes with the token and drops all-zero counters', () => {
    const changes = numberChanges('t', [
      { record: { series: 'outcomes', day: '2026-03-01' }, counters: { renewed_none: 0 } },
      { record: { series: 'outcomes', day: '2026-03-02' }, counters: { renewed_none: 1, churned_none: 0 } },
    ]);
    expect(changes).toEqual([{ id: 't:0', record: { series: 'outcomes', day: '2026-03-02' }, counters: { renewed_none: 1 } }]);
  });

  it('groups a moved outcome by day and a moved purchase cohort by day', () => {
    const first = recordOutcome([], { result: 'CHURNED', at: '2026-03-01T03:00:00Z', remindersSent: 1, endDate: '2026-02-28', npsSegment: 'none' });
    const late = recordOutcome(first.history, { result: 'RENEWED', at: '2026-03-02T08:00:00Z', remindersSent: 1, endDate: '2026-02-28', npsSegment: 'promoter' });
    expect(outcomeChanges(late.increments)).toEqual([
      { record: { series: 'outcomes', day: '2026-03-01' }, counters: { churned_none: -1 } },
      { record: { series: 'outcomes', day: '2026-03-02' }, counters: { renewed_promoter: 1 } },
    ]);
    const one = recordPurchase(undefined, { orderId: 'o2', at: '2026-03-10T10:00:00Z' });
    const earlier = recordPurchase(one.history, { orderId: 'o1', at: '2026-03-01T10:00:00Z' });
    expect(purchaseChanges(earlier.increments)).toEqual(
      expect.arrayContaining([
        { record: { series: 'purchases', day: '2026-03-01' }, counters: { customers: 1, repeat_9: 1 } },
        { record: { series: 'purchases', day: '2026-03-10' }, counters: { customers: -1 } },
      ]),
    );
    expect(purchaseChanges(earlier.increments)).toHaveLength(2);
  });
});

describe('settlePendingCounts', () => {
  it('applies the pending changes once, empties the list, releases the lease and the markers', async () => {
    const counters = new InMemoryMetricsCounters();
    const pending = new InMemoryPendingCounts();
    pending.append('tp-1', sent('a'));
    expect(await settlePendingCounts('tp-1', NOW, { pending, counters })).toBe('settled');
    expect(counters.sends()).toEqual([{ campaignId: 'nps', day: '2026-03-01', kind: 'nps', sent: 1, answered: 0 }]);
    expect(pending.entities()).toEqual([]);
    expect(pending.leases.size).toBe(0);
    expect(counters.markers()).toEqual([]);
    expect(await settlePendingCounts('tp-1', NOW, { pending, counters })).toBe('none');
    expect(counters.sends()[0]!.sent).toBe(1);
  });

  it('leaves an entity whose lease is running to its holder', async () => {
    const counters = new InMemoryMetricsCounters();
    const pending = new InMemoryPendingCounts();
    pending.append('tp-1', sent('a'));
    pending.leases.set('tp-1', { token: 'other', until: '2026-03-01T10:05:00.000Z' });
    expect(await settlePendingCounts('tp-1', NOW, { pending, counters })).toBe('none');
    expect(counters.sends()).toEqual([]);
    // Once it has expired, the next settler takes over.
    expect(await settlePendingCounts('tp-1', '2026-03-01T10:05:00.001Z', { pending, counters })).toBe('settled');
    expect(counters.sends()[0]!.sent).toBe(1);
  });

  it('takes and checks the lease on the settler clock when it has one, not on the (event) time it is given', async () => {
    const counters = new InMemoryMetricsCounters();
    const pending = new InMemoryPendingCounts();
    pending.append('cust', sent('a'));
    // A live holder leased it until 10:05 real time; an event from hours later must not take over at 10:01 real time.
    pending.leases.set('cust', { token: 'holder', until: '2026-03-01T10:05:00.000Z' });
    const clock = () => '2026-03-01T10:01:00.000Z';
    expect(await settlePendingCounts('cust', '2026-03-01T18:00:00.000Z', { pending, counters, clock })).toBe('none');
    expect(await settlePendingCounts('cust', '2026-03-01T18:00:00.000Z', { pending, counters, clock: () => '2026-03-01T10:05:00.001Z', lease: 'PT1M' })).toBe('settled');
    expect(counters.sends()[0]!.sent).toBe(1);
  });

  it('holds the lease as long as it is told', async () => {
    const pending = new InMemoryPendingCounts();
    pending.append('cust', sent('a'));
    const stuck: MetricsCounterStore = { apply: () => Promise.reject(new Error('down')), release: () => Promise.resolve() };
    await expect(settlePendingCounts('cust', NOW, { pending, counters: stuck, lease: 'PT1M' })).rejects.toThrow('down');
    expect(pending.leases.get('cust')?.until).toBe('2026-03-01T10:01:00.000Z');
  });

  for (const after of [false, true]) {
    for (const operation of ['apply', 'release'] as const) {
      it(`counts once when a settler crashes ${after ? 'after' : 'before'} ${operation} and another finishes after the lease`, async () => {
        const inner = new InMemoryMetricsCounters();
        const pending = new InMemoryPendingCounts();
        pending.append('c-1', [...sent('a'), ...sent('b', '2026-03-02T09:00:00Z')]);
        const crashing = new CrashingCounters(inner, operation, 2, after);
        await expect(settlePendingCounts('c-1', NOW, { pending, counters: crashing })).rejects.toThrow(/crash/);
        const later = '2026-03-01T11:00:00.000Z';
        const outcome = await settlePendingCounts('c-1', later, { pending, counters: inner });
        // A crash while releasing markers happens after the list was emptied: nothing left to settle, a marker stays.
        expect(outcome).toBe(operation === 'release' ? 'none' : 'settled');
        expect(inner.sends().map((s) => [s.day, s.sent])).toEqual([
          ['2026-03-01', 1],
          ['2026-03-02', 1],
        ]);
        expect(pending.entities()).toEqual([]);
        if (operation === 'apply') expect(inner.markers()).toEqual([]);
      });
    }
  }

  it('settles changes appended while it held the lease before releasing it', async () => {
    const counters = new InMemoryMetricsCounters();
    const pending = new InMemoryPendingCounts();
    pending.append('cust', sent('a'));
    let appended = false;
    const appending: MetricsCounterStore = {
      apply: async (change) => {
        const result = await counters.apply(change);
        if (!appended) {
          appended = true;
          pending.append('cust', sent('b'));
        }
        return result;
      },
      release: (change) => counters.release(change),
    };
    expect(await settlePendingCounts('cust', NOW, { pending, counters: appending })).toBe('settled');
    expect(counters.sends()[0]!.sent).toBe(2);
    expect(pending.entities()).toEqual([]);
    expect(counters.markers()).toEqual([]);
  });
});
