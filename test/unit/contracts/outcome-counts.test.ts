/**
 * The renewal and churn counts (ContractOutcomeAggregate) as contract events and the sweep keep them: on the day of
 * the outcome, in the customer's NPS segment then, exactly once — re-deliveries, late renewals, crashes and races
 * included. Every scenario also checks that the counts equal the rebuild from the contracts' outcome histories.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { parseContractEvent } from '../../../core/contracts/contract-events.ts';
import { applyContractEvent, recordContractEnds } from '../../../core/contracts/sweep-renewals.ts';
import { type ContractOutcomeAggregate, emptySegmentCounts, rebuildOutcomeAggregates } from '../../../core/metrics/model.ts';
import { InMemoryTouchpoints } from '../fakes.ts';
import { InMemoryContractCustomers, InMemoryContracts, contractEnvelope, contractsWithMetrics, startedDetail } from './fakes.ts';

const event = (type: string, detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) =>
  parseContractEvent(contractEnvelope(type, { contractId: 'ctr-1', customerId: 'cust-1', ...detail }, envelope));

const started = (contractId = 'ctr-1', customerId = 'cust-1') =>
  event('Contract Started', startedDetail({ contractId, customerId }));
const renewed = (occurredAt: string, endDate = '2028-03-28', contractId = 'ctr-1') =>
  event('Contract Renewed', { contractId, endDate, occurredAt });
const cancelled = (occurredAt: string, contractId = 'ctr-1') => event('Contract Cancelled', { contractId, occurredAt });

/** A day's record with the given counts (the rest zero). */
function day(date: string, counts: { renewed?: Partial<ContractOutcomeAggregate['renewed']>; churned?: Partial<ContractOutcomeAggregate['churned']> }) {
  return {
    day: date,
    renewed: { ...emptySegmentCounts(), ...counts.renewed },
    churned: { ...emptySegmentCounts(), ...counts.churned },
  };
}

describe('contract outcome counts', () => {
  let world: ReturnType<typeof contractsWithMetrics>;
  let deps: {
    contracts: InMemoryContracts;
    touchpoints: InMemoryTouchpoints;
    customers: InMemoryContractCustomers;
    metrics: ReturnType<typeof contractsWithMetrics>['metrics'];
  };
  beforeEach(() => {
    world = contractsWithMetrics();
    deps = { ...world, touchpoints: new InMemoryTouchpoints(), customers: new InMemoryContractCustomers() };
  });

  /** Sets the customer's latest NPS answer (its segment from now on). */
  function answersNps(customerId: string, category: string) {
    const customer = deps.customers.items.get(customerId)!;
    customer.latestSurvey = { nps: { score: 0, category, surveyId: `sv-${category}`, answeredAt: '2026-12-01T00:00:00.000Z' } };
  }

  /** The counts as the rebuild would compute them from every contract's outcome history. */
  function rebuilt() {
    return rebuildOutcomeAggregates([...deps.contracts.items.values()].flatMap((c) => c.outcomes ?? []));
  }

  /** Nothing is left pending or in flight. */
  function expectSettled() {
    expect(world.metrics.pending.entities()).toEqual([]);
    expect(world.metrics.counters.markers()).toEqual([]);
  }

  it('counts renewals and churn on the day of the outcome, in the NPS segment of the customer then', async () => {
    // Prepare: four contracts of four customers: a promoter, a passive, a detractor, and one who never answered.
    const customers = { 'ctr-p': 'promoter', 'ctr-a': 'passive', 'ctr-d': 'detractor', 'ctr-n': undefined } as const;
    for (const [contractId, category] of Object.entries(customers)) {
      await applyContractEvent(started(contractId, `cust-${contractId}`), deps);
      if (category) answersNps(`cust-${contractId}`, category);
    }

    // Act
    await applyContractEvent(renewed('2027-03-05T10:00:00Z', '2028-03-28', 'ctr-p'), deps);
    await applyContractEvent(renewed('2027-03-05T23:59:59Z', '2028-03-28', 'ctr-n'), deps);
    await applyContractEvent(cancelled('2027-03-06T00:00:00Z', 'ctr-a'), deps);
    await applyContractEvent(cancelled('2027-03-06T09:00:00+02:00', 'ctr-d'), deps); // 07:00Z

    // Assess
    expect(world.metrics.counters.outcomes()).toEqual([
      day('2027-03-05', { renewed: { promoter: 1, none: 1 } }),
      day('2027-03-06', { churned: { passive: 1, detractor: 1 } }),
    ]);
    expect(world.metrics.counters.outcomes()).toEqual(rebuilt());
    expect((await deps.contracts.get('ctr-d'))?.outcomes).toEqual([
      { result: 'CHURNED', at: '2027-03-06T07:00:00.000Z', remindersSent: 0, endDate: '2027-03-28', npsSegment: 'detractor' },
    ]);
    expectSettled();
  });

  it('counts nothing for a contract without an outcome yet', async () => {
    await applyContractEvent(started(), deps);
    await applyContractEvent(event('Contract Updated', { plan: 'team-annual', occurredAt: '2026-06-02T00:00:00Z' }), deps);

    expect(world.metrics.counters.records.size).toBe(0);
    expect((await deps.contracts.get('ctr-1'))?.outcomes).toBeUndefined();
  });

  it('counts a re-delivered Renewed or Cancelled once', async () => {
    await applyContractEvent(started(), deps);
    await applyContractEvent(started('ctr-2'), deps);
    const renewal = renewed('2027-03-05T10:00:00Z');
    const cancellation = cancelled('2027-03-06T10:00:00Z', 'ctr-2');

    for (let i = 0; i < 3; i += 1) {
      await applyContractEvent(renewal, deps);
      await applyContractEvent(cancellation, deps);
    }

    expect(world.metrics.counters.outcomes()).toEqual([day('2027-03-05', { renewed: { none: 1 } }), day('2027-03-06', { churned: { none: 1 } })]);
    expect(world.metrics.counters.applied.map((a) => a.result)).toEqual(['applied', 'applied']);
    expectSettled();
  });

  it('moves the count when a late Renewed arrives after the sweep recorded the churn, in the segment of the customer then', async () => {
    // Prepare: the contract's last day (28 March) passes; the sweep of the 30th records the churn of a detractor.
    await applyContractEvent(started(), deps);
    answersNps('cust-1', 'detractor');
    await recordContractEnds('2027-03-30T08:00:00.000Z', deps);
    expect(world.metrics.counters.outcomes()).toEqual([day('2027-03-30', { churned: { detractor: 1 } })]);
    answersNps('cust-1', 'promoter');

    // Act: renewed on the last day, delivered two days late, and once more.
    const late = event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-28T15:00:00Z' }, { time: '2027-03-30T09:00:00Z' });
    await applyContractEvent(late, deps);
    await applyContractEvent(late, deps);

    // Assess: −1 churned on the churn day, +1 renewed on the renewal day; one outcome for the term.
    expect(world.metrics.counters.outcomes()).toEqual([day('2027-03-28', { renewed: { promoter: 1 } })]);
    expect(world.metrics.counters.records.get('outcomes/2027-03-30')?.counters).toEqual({ churned_detractor: 0 });
    expect((await deps.contracts.get('ctr-1'))?.outcomes).toEqual([
      { result: 'RENEWED', at: '2027-03-28T15:00:00.000Z', remindersSent: 0, endDate: '2027-03-28', npsSegment: 'promoter' },
    ]);
    expect(world.metrics.counters.outcomes()).toEqual(rebuilt());
    expectSettled();
  });

  it('keeps one outcome per term: a renewal and the next term’s churn both count', async () => {
    await applyContractEvent(started(), deps);
    await applyContractEvent(renewed('2027-03-05T10:00:00Z', '2028-03-28'), deps);
    await applyContractEvent(cancelled('2027-11-02T10:00:00Z'), deps);

    expect(world.metrics.counters.outcomes()).toEqual([day('2027-03-05', { renewed: { none: 1 } }), day('2027-11-02', { churned: { none: 1 } })]);
    expect((await deps.contracts.get('ctr-1'))?.outcomes?.map((o) => [o.endDate, o.result])).toEqual([
      ['2027-03-28', 'RENEWED'],
      ['2028-03-28', 'CHURNED'],
    ]);
    expect(world.metrics.counters.outcomes()).toEqual(rebuilt());
  });

  for (const [what, outcomeEvent, expected] of [
    ['Renewed', renewed('2027-03-05T10:00:00Z'), day('2027-03-05', { renewed: { passive: 1 } })],
    ['Cancelled', cancelled('2027-03-05T10:00:00Z'), day('2027-03-05', { churned: { passive: 1 } })],
  ] as const) {
    it(`finishes the count when a ${what} event is retried after a crash between the contract write and the settle`, async () => {
      // Prepare: the first settle fails before it claims anything (the process dies right after the write).
      await applyContractEvent(started(), deps);
      answersNps('cust-1', 'passive');
      const claim = world.metrics.pending.claim.bind(world.metrics.pending);
      world.metrics.pending.claim = async () => {
        throw new Error('crashed');
      };
      await expect(applyContractEvent(outcomeEvent, deps)).rejects.toThrow('crashed');
      expect(world.metrics.pending.entities()).toEqual(['ctr-1']);
      expect(world.metrics.counters.records.size).toBe(0);
      world.metrics.pending.claim = claim;

      // Act: Lambda retries the event.
      const retry = await applyContractEvent(outcomeEvent, deps);

      // Assess
      expect(retry.action).toBe('stale-event');
      expect(world.metrics.counters.outcomes()).toEqual([expected]);
      expectSettled();
    });
  }

  it('counts right when the sweep ends the contract between a Renewed event’s read and its write', async () => {
    // Prepare: the renewal's write is preceded by the sweep recording the churn (the renewal read the running contract).
    await applyContractEvent(started(), deps);
    const markRenewed = deps.contracts.markRenewed.bind(deps.contracts);
    let raced = false;
    deps.contracts.markRenewed = async (contractId, change) => {
      if (!raced) {
        raced = true;
        await recordContractEnds('2027-03-30T08:00:00.000Z', deps);
      }
      return markRenewed(contractId, change);
    };

    // Act
    const result = await applyContractEvent(
      event('Contract Renewed', { endDate: '2028-03-28', occurredAt: '2027-03-28T15:00:00Z' }, { time: '2027-03-30T09:00:00Z' }),
      deps,
    );

    // Assess: the first write was refused (the history it was computed from had changed); the retry moved the count.
    expect(result.action).toBe('contract-renewed');
    expect(world.metrics.counters.outcomes()).toEqual([day('2027-03-28', { renewed: { none: 1 } })]);
    expect(world.metrics.counters.outcomes()).toEqual(rebuilt());
    expectSettled();
  });

  it('the sweep counts churn on its day, once, and not for contracts renewed meanwhile', async () => {
    // Prepare: two contracts end on 28 March; one was renewed before the sweep.
    await applyContractEvent(started(), deps);
    await applyContractEvent(started('ctr-2', 'cust-2'), deps);
    answersNps('cust-1', 'detractor');
    await applyContractEvent(renewed('2027-03-20T10:00:00Z', '2028-03-28', 'ctr-2'), deps);

    // Act: the sweep runs, and runs again.
    const first = await recordContractEnds('2027-03-30T08:00:00.000Z', deps);
    const second = await recordContractEnds('2027-03-30T08:00:00.000Z', deps);

    // Assess
    expect(first.ended).toBe(1);
    expect(second.ended).toBe(0);
    expect(world.metrics.counters.outcomes()).toEqual([
      day('2027-03-20', { renewed: { none: 1 } }),
      day('2027-03-30', { churned: { detractor: 1 } }),
    ]);
    expect(world.metrics.counters.outcomes()).toEqual(rebuilt());
    expectSettled();
  });
});
