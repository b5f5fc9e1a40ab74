/**
 * A crash (the process dying) between any two writes of an answer must never lose or double a count. Each test
 * plans a crash at one point, checks what is left, then lets a later call, the pending sweep or the rebuild finish.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { rebuildCampaignAggregates } from '../../../core/surveys/rebuild-aggregates.ts';
import { recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import { rebuildAggregates } from '../../../core/surveys/responses.ts';
import { settlePendingResponses, settleSurveyResponse } from '../../../core/surveys/settle-response.ts';
import { SimulatedCrash, surveyWorld } from './fakes.ts';
import { CAMPAIGN, click, prng } from './support.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
/** Past the 15-minute settlement lease of a crashed settler. */
const LEASE_OVER = 16;

let world: ReturnType<typeof surveyWorld>;
beforeEach(() => {
  world = surveyWorld();
});

const counted = () => world.aggregates.counts().map((a) => ({ day: a.day, responses: a.responses, scores: a.scores }));

function expectSettledAndConsistent() {
  const responses = world.responses.all();
  expect(world.aggregates.counts()).toEqual(rebuildAggregates(responses));
  expect(responses.filter((r) => r.aggregatedRevision !== r.revision || r.publishedRevision !== r.revision || r.settlement)).toEqual([]);
  expect(world.aggregates.markers()).toBe(0);
}

describe('a crash between the answer write and the aggregate update', () => {
  it('leaves the answer stored and uncounted; the next click counts it once', async () => {
    world.faults.crash('responses.acquireSettlement', 'before');
    await expect(recordSurveyResponse(click(9, T0), world.deps)).rejects.toThrow(SimulatedCrash);
    expect(await world.responses.get('tp-1')).toMatchObject({ score: 9, revision: 0 });
    expect((await world.responses.get('tp-1'))?.aggregatedRevision).toBeUndefined();
    expect(counted()).toEqual([]);
    expect(world.events.published).toEqual([]);

    const again = await recordSurveyResponse(click(9, at(1)), world.deps);

    expect(again).toMatchObject({ outcome: 'unchanged', settlement: 'settled' });
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '9': 1 } }]);
    expect(world.events.published).toHaveLength(1);
    expectSettledAndConsistent();
  });

  it('after the lease was taken: nobody else counts until the lease runs out, then the sweep counts once', async () => {
    world.faults.crash('aggregates.apply', 'before');
    await expect(recordSurveyResponse(click(9, T0), world.deps)).rejects.toThrow(SimulatedCrash);

    expect(await recordSurveyResponse(click(9, at(5)), world.deps)).toMatchObject({ outcome: 'unchanged', settlement: 'busy' });
    expect(await settlePendingResponses({ now: at(5), limit: 10 }, world.deps)).toEqual({ settled: 0, busy: 1, notNeeded: 0 });
    expect(counted()).toEqual([]);

    expect(await settlePendingResponses({ now: at(LEASE_OVER), limit: 10 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '9': 1 } }]);
    expectSettledAndConsistent();
  });
});

describe('a crash after the aggregate update, before the response records it', () => {
  it('is finished from the in-flight marker without counting twice', async () => {
    world.faults.crash('aggregates.apply', 'after');
    await expect(recordSurveyResponse(click(9, T0), world.deps)).rejects.toThrow(SimulatedCrash);
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '9': 1 } }]);
    expect(world.aggregates.markers()).toBe(1);

    expect(await recordSurveyResponse(click(9, at(3)), world.deps)).toMatchObject({ settlement: 'busy' });
    expect(await settleSurveyResponse('tp-1', at(LEASE_OVER), world.deps)).toBe('settled');

    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '9': 1 } }]);
    expect(world.aggregates.applied).toHaveLength(1);
    expect(world.events.published.map((e) => e.detail.revision)).toEqual([0]);
    expectSettledAndConsistent();
  });

  it('counts only the difference when the answer changed again before recovery', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    world.faults.crash('aggregates.apply', 'after');
    await expect(recordSurveyResponse(click(9, at(10)), world.deps)).rejects.toThrow(SimulatedCrash);
    // The change to 10 is stored, but its settling has to wait for the crashed lease.
    expect(await recordSurveyResponse(click(10, at(12)), world.deps)).toMatchObject({ outcome: 'changed', settlement: 'busy' });
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '9': 1 } }]);

    expect(await settlePendingResponses({ now: at(10 + LEASE_OVER), limit: 10 }, world.deps)).toMatchObject({ settled: 1 });

    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '10': 1 } }]);
    // Revision 1 (9) was superseded before it was ever published.
    expect(world.events.published.map((e) => [e.detail.revision, e.detail.score])).toEqual([
      [0, 6],
      [2, 10],
    ]);
    expectSettledAndConsistent();
  });
});

describe('a crash around the event', () => {
  it('before publishing: the event is published once on recovery', async () => {
    world.faults.crash('events.publish', 'before');
    await expect(recordSurveyResponse(click(3, T0), world.deps)).rejects.toThrow(SimulatedCrash);
    expect(world.events.published).toEqual([]);

    await settlePendingResponses({ now: at(LEASE_OVER), limit: 10 }, world.deps);
    expect(world.events.published.map((e) => e.detail.revision)).toEqual([0]);
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '3': 1 } }]);
    expectSettledAndConsistent();
  });

  it('after publishing: the event is published again (at least once, same revision), the count stays one', async () => {
    world.faults.crash('events.publish', 'after');
    await expect(recordSurveyResponse(click(3, T0), world.deps)).rejects.toThrow(SimulatedCrash);

    await settlePendingResponses({ now: at(LEASE_OVER), limit: 10 }, world.deps);
    expect(world.events.published.map((e) => [e.detail.surveyId, e.detail.revision])).toEqual([
      ['tp-1', 0],
      ['tp-1', 0],
    ]);
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '3': 1 } }]);
    expectSettledAndConsistent();
  });
});

describe('a crash after the response records the count', () => {
  it('leaves only a stale marker, which the next change drops', async () => {
    world.faults.crash('aggregates.clearInflight', 'before');
    await expect(recordSurveyResponse(click(6, T0), world.deps)).rejects.toThrow(SimulatedCrash);
    expect(await world.responses.get('tp-1')).toMatchObject({ aggregatedRevision: 0, publishedRevision: 0 });
    expect(world.aggregates.markers()).toBe(1);
    expect(await settlePendingResponses({ now: at(LEASE_OVER), limit: 10 }, world.deps)).toEqual({ settled: 0, busy: 0, notNeeded: 0 });

    await recordSurveyResponse(click(8, at(30)), world.deps);
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 1, scores: { '8': 1 } }]);
    expectSettledAndConsistent();
  });
});

describe('settlePendingResponses', () => {
  it('leaves an answer younger than a minute to its own request, and respects the limit', async () => {
    for (const [i, surveyId] of ['tp-1', 'tp-2', 'tp-3'].entries()) {
      world.faults.crash('responses.acquireSettlement', 'before');
      await expect(recordSurveyResponse(click(9, at(i), { surveyId }), world.deps)).rejects.toThrow(SimulatedCrash);
    }
    expect(await settlePendingResponses({ now: at(2.5), limit: 1 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    // tp-3, answered at 2 minutes, is younger than the grace minute.
    expect(await settlePendingResponses({ now: at(2.5), limit: 10 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(await settlePendingResponses({ now: at(3), limit: 10 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(counted()).toEqual([{ day: '2026-12-01', responses: 3, scores: { '9': 3 } }]);
    expectSettledAndConsistent();
  });
});

describe('rebuildCampaignAggregates', () => {
  async function answerSome() {
    await recordSurveyResponse(click(6, T0, { surveyId: 'tp-1' }), world.deps);
    await recordSurveyResponse(click(10, at(60), { surveyId: 'tp-2' }), world.deps);
    await recordSurveyResponse(click(9, at(60 * 24), { surveyId: 'tp-3' }), world.deps);
    await recordSurveyResponse(click(7, at(60 * 25), { surveyId: 'tp-1' }), world.deps);
  }

  it('overwrites wrong counts with the counts of the responses, and zeroes a day without responses', async () => {
    await answerSome();
    const expected = rebuildAggregates(world.responses.all());
    const [first] = world.aggregates.buckets.values();
    first!.aggregate = { ...first!.aggregate, responses: 99, scores: { '0': 99 } };
    await world.aggregates.apply({ campaignId: CAMPAIGN, day: '2026-11-30', kind: 'nps' }, { responses: 1, scoreSum: 1, scores: { '1': 1 }, categories: {} }, {
      surveyId: 'ghost',
      expected: undefined,
      revision: 0,
    });

    const result = await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 26) }, world.deps);

    expect(result).toEqual({ settled: 0, replaced: 3, skipped: [] });
    expect(world.aggregates.counts()).toEqual([
      { campaignId: CAMPAIGN, day: '2026-11-30', kind: 'nps', responses: 0, scoreSum: 0, scores: {}, categories: {} },
      ...expected,
    ]);
    expect(world.aggregates.markers()).toBe(0);
  });

  it('first finishes settling that a crash interrupted', async () => {
    await answerSome();
    world.faults.crash('aggregates.apply', 'after');
    await expect(recordSurveyResponse(click(0, at(60 * 26), { surveyId: 'tp-2' }), world.deps)).rejects.toThrow(SimulatedCrash);

    const result = await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 26 + LEASE_OVER) }, world.deps);

    expect(result).toEqual({ settled: 1, replaced: 2, skipped: [] });
    expectSettledAndConsistent();
  });

  it('leaves a day alone while one of its responses is being settled, and finishes it on a later run', async () => {
    await answerSome();
    world.faults.crash('aggregates.apply', 'after');
    await expect(recordSurveyResponse(click(0, at(60 * 26), { surveyId: 'tp-2' }), world.deps)).rejects.toThrow(SimulatedCrash);

    const early = await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 26 + 5) }, world.deps);
    expect(early).toEqual({ settled: 0, replaced: 1, skipped: [{ campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps' }] });
    expect(counted()).toContainEqual({ day: '2026-12-01', responses: 2, scores: { '0': 1, '7': 1 } });

    const later = await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 26 + LEASE_OVER) }, world.deps);
    expect(later).toMatchObject({ settled: 1, skipped: [] });
    expectSettledAndConsistent();
  });

  it('leaves a day alone when an answer is counted while the rebuild runs', async () => {
    await answerSome();
    const listAggregates = world.aggregates.listByCampaign.bind(world.aggregates);
    world.aggregates.listByCampaign = async (campaignId) => {
      const stored = await listAggregates(campaignId);
      world.aggregates.listByCampaign = listAggregates;
      // An answer arrives after the rebuild read the aggregates and before it overwrites them.
      await recordSurveyResponse(click(2, at(60 * 24 + 5), { surveyId: 'tp-4' }), world.deps);
      return stored;
    };

    const result = await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 26) }, world.deps);

    expect(result.skipped).toEqual([{ campaignId: CAMPAIGN, day: '2026-12-02', kind: 'nps' }]);
    expect(counted()).toContainEqual({ day: '2026-12-02', responses: 2, scores: { '2': 1, '9': 1 } });
    expect(await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: at(60 * 27) }, world.deps)).toMatchObject({ skipped: [] });
    expectSettledAndConsistent();
  });
});

describe('concurrent answers', () => {
  it('interleaved at every await, still settle into one count with the stored answer last published', async () => {
    await recordSurveyResponse(click(5, T0), world.deps);
    const outcomes = await Promise.allSettled([7, 9, 9, 2, 10, 0].map((score, i) => recordSurveyResponse(click(score, at(1 + i / 10)), world.deps)));

    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.name)).toEqual(
      Array(outcomes.filter((o) => o.status === 'rejected').length).fill('SurveyAnswerConflictError'),
    );
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.settlement : 'conflict'))).toContain('busy');
    expectSettledAndConsistent();
    const stored = await world.responses.get('tp-1');
    expect(world.events.published.at(-1)?.detail).toMatchObject({ revision: stored!.revision, score: stored!.score });
  });
});

describe('random answers with random crashes', () => {
  const OPERATIONS = [
    'responses.put',
    'responses.acquireSettlement',
    'aggregates.apply',
    'events.publish',
    'responses.commitSettlement',
    'aggregates.clearInflight',
  ];

  async function survivingCrashes(action: () => Promise<unknown>) {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
    }
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('always ends with counts equal to a rebuild (seed %i)', async (seed) => {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    let minutes = 0;
    for (let step = 0; step < 150; step += 1) {
      minutes += Math.floor(random() * 90);
      if (random() < 0.3) world.faults.crash(pick(OPERATIONS), random() < 0.5 ? 'before' : 'after');
      const request = click(Math.floor(random() * 11), at(minutes), {
        surveyId: pick(['tp-1', 'tp-2', 'tp-3', 'tp-4', 'tp-5']),
        ...(random() < 0.2 ? { comment: `note ${step}` } : {}),
      });
      await survivingCrashes(() => recordSurveyResponse(request, world.deps));
      if (random() < 0.1) await survivingCrashes(() => settlePendingResponses({ now: at(minutes), limit: 10 }, world.deps));
    }
    // Planned crashes that never fired must not fire during the recovery.
    world.faults.clear();

    const later = at(minutes + 60 * 24 * 30);
    await settlePendingResponses({ now: later, limit: 100 }, world.deps);

    const responses = world.responses.all();
    expect(world.aggregates.counts()).toEqual(rebuildAggregates(responses));
    expect(responses.filter((r) => r.aggregatedRevision !== r.revision || r.publishedRevision !== r.revision || r.settlement)).toEqual([]);
    // Only stale markers may be left (a crash before dropping one): at or below what their response records.
    for (const marker of world.aggregates.markerList()) {
      expect(marker.revision).toBeLessThanOrEqual(responses.find((r) => r.surveyId === marker.surveyId)!.aggregatedRevision!);
    }
    // The rebuild agrees with the counts and drops the stale markers.
    expect(await rebuildCampaignAggregates({ campaignId: CAMPAIGN, now: later }, world.deps)).toMatchObject({ settled: 0, skipped: [] });
    expectSettledAndConsistent();
    for (const response of world.responses.all()) {
      expect(world.events.published.filter((e) => e.detail.surveyId === response.surveyId).at(-1)?.detail.revision).toBe(response.revision);
    }
  });
});
