/**
 * The response rate's numerator: a survey's first answer counts `answered` + 1 in the bucket of its send (campaign,
 * UTC day of the survey's sentAt, kind), exactly once — not for an edit, not for a repeated click, not twice after a
 * crash — and the pending sweep finishes what a crash left. The last test runs a send and its answer through the
 * use cases, so both halves of the rate land in the same bucket.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadCampaignDirectory } from '../../../core/campaigns/load.ts';
import type { Touchpoint } from '../../../core/model.ts';
import { recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import { PENDING_SWEEP_GRACE, SETTLEMENT_LEASE, settlePendingResponses } from '../../../core/surveys/settle-response.ts';
import { surveyAnswerUrl } from '../../../core/surveys/tokens.ts';
import { addDuration } from '../../../core/schedule.ts';
import { answerSurvey } from '../../../core/use-cases/answer-survey.ts';
import { recordTouchpointOutcome } from '../../../core/use-cases/record-touchpoint-outcome.ts';
import { InMemoryTouchpoints, StaticCampaigns } from '../fakes.ts';
import { BASE_URL, KEYRING, SimulatedCrash, surveyWorld } from './fakes.ts';
import { CAMPAIGN, click, type ClickOptions } from './support.ts';

/** Sent late on the 15th (UTC); answered on the 16th and later: the answers belong to the 15th's sends. */
const SENT_AT = '2026-11-15T23:40:00.000Z';
const T0 = '2026-11-16T09:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const answered = (n: number, kind: 'nps' | 'csat' | 'ces' = 'nps') => [{ campaignId: CAMPAIGN, day: '2026-11-15', kind, sent: 0, answered: n }];
const afterTheLease = addDuration(addDuration(T0, SETTLEMENT_LEASE), PENDING_SWEEP_GRACE);

describe('a survey answer in the response rate', () => {
  let world: ReturnType<typeof surveyWorld>;
  const answer = (score: number, now: string, options: ClickOptions & { surveySentAt?: string } = {}) =>
    recordSurveyResponse({ ...click(score, now, options), surveySentAt: 'surveySentAt' in options ? options.surveySentAt : SENT_AT }, world.deps);

  beforeEach(() => {
    world = surveyWorld();
  });

  it("counts the first answer once, in its send's bucket, and keeps the send time on the response", async () => {
    expect(await answer(9, T0)).toMatchObject({ outcome: 'recorded', settlement: 'settled', response: { surveySentAt: SENT_AT } });
    expect(world.counters.sends()).toEqual(answered(1));
    expect((await world.responses.get('tp-1'))?.surveySentAt).toBe(SENT_AT);
    expect(world.pendingCounts.entities()).toEqual([]);
    expect(world.counters.markers()).toEqual([]);
  });

  it('counts nothing more for an edit or a repeated click', async () => {
    await answer(6, T0);
    expect(await answer(6, at(1))).toMatchObject({ outcome: 'unchanged' });
    expect(await answer(9, at(2), { comment: 'Support called back' })).toMatchObject({ outcome: 'changed' });
    expect(await answer(9, at(3))).toMatchObject({ outcome: 'unchanged' });
    expect(world.counters.sends()).toEqual(answered(1));
    expect(world.counters.applied).toHaveLength(1);
    // The edit keeps the send time of the first answer.
    expect((await world.responses.get('tp-1'))?.surveySentAt).toBe(SENT_AT);
  });

  it('counts each survey in its own bucket (its own send time and kind)', async () => {
    await answer(9, T0, { surveyId: 'tp-1' });
    await answer(2, T0, { surveyId: 'tp-2', kind: 'csat', surveySentAt: '2026-11-14T08:00:00.000Z' });
    expect(world.counters.sends()).toEqual([
      { campaignId: CAMPAIGN, day: '2026-11-14', kind: 'csat', sent: 0, answered: 1 },
      ...answered(1),
    ]);
  });

  it('counts no answer for a survey whose send was not counted (no send time)', async () => {
    expect(await answer(9, T0, { surveySentAt: undefined })).toMatchObject({ outcome: 'recorded', settlement: 'settled' });
    expect(world.counters.sends()).toEqual([]);
    expect((await world.responses.get('tp-1'))?.surveySentAt).toBeUndefined();
  });

  it('a crash right after the response was written is finished by the pending sweep, once', async () => {
    world.faults.crash('responses.put', 'after');
    await expect(answer(9, T0)).rejects.toThrow(SimulatedCrash);
    expect(world.counters.sends()).toEqual([]);
    expect(world.pendingCounts.entities()).toEqual(['tp-1']);

    expect(await settlePendingResponses({ now: at(5), limit: 10 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(world.counters.sends()).toEqual(answered(1));
    expect(world.pendingCounts.entities()).toEqual([]);
    expect(await settlePendingResponses({ now: at(10), limit: 10 }, world.deps)).toEqual({ settled: 0, busy: 0, notNeeded: 0 });
    // A repeated click after that adds nothing either.
    await answer(9, at(11));
    expect(world.counters.sends()).toEqual(answered(1));
  });

  it('a crash in the middle of counting (applied, not yet trimmed) is finished after the lease without counting twice', async () => {
    world.faults.crash('pendingCounts.complete', 'before');
    await expect(answer(9, T0)).rejects.toThrow(SimulatedCrash);
    expect(world.counters.sends()).toEqual(answered(1));
    // The request's settlement lease still runs: the sweep leaves the response alone until it ends.
    expect(await settlePendingResponses({ now: at(5), limit: 10 }, world.deps)).toEqual({ settled: 0, busy: 1, notNeeded: 0 });
    expect(await settlePendingResponses({ now: afterTheLease, limit: 10 }, world.deps)).toEqual({ settled: 1, busy: 0, notNeeded: 0 });
    expect(world.counters.sends()).toEqual(answered(1));
    expect(world.counters.applied.map((a) => a.result)).toEqual(['applied', 'already']);
    expect(world.pendingCounts.entities()).toEqual([]);
    expect(world.counters.markers()).toEqual([]);
  });

  it('a second click that races the first one past a crashed request settles the count too, once', async () => {
    world.faults.crash('pendingCounts.claim', 'before');
    await expect(answer(9, T0)).rejects.toThrow(SimulatedCrash);
    // The same answer again within the lease: unchanged, busy (the crashed request holds the lease).
    expect(await answer(9, at(1))).toMatchObject({ outcome: 'unchanged', settlement: 'busy' });
    expect(world.counters.sends()).toEqual([]);
    // After the lease, the same click settles it.
    expect(await answer(9, afterTheLease)).toMatchObject({ outcome: 'unchanged', settlement: 'settled' });
    expect(world.counters.sends()).toEqual(answered(1));
  });
});

describe('a survey sent and answered through the use cases', () => {
  const nps = loadCampaignDirectory('campaigns').find((c) => c.id === 'nps-after-purchase')!;
  const surveyId = 'tp-nps-1';
  const survey: Touchpoint = {
    touchpointId: surveyId,
    campaignId: nps.id,
    kind: 'survey',
    customerId: 'c-1',
    orderId: 'o-1',
    dueAt: SENT_AT,
    status: 'PENDING',
    generation: 0,
    context: { orderId: 'o-1' },
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-01T10:00:00.000Z',
  };
  const link = (score: number) =>
    new URL(surveyAnswerUrl(BASE_URL, KEYRING, { surveyId, customerId: 'c-1', score, expiresAt: '2026-12-15T10:00:00.000Z' })).searchParams;

  async function sentSurvey(options: { withScale: boolean }) {
    const world = surveyWorld();
    const touchpoints = new InMemoryTouchpoints(4, world.pendingCounts);
    await touchpoints.create(survey);
    await touchpoints.claimForDispatch({ touchpointId: surveyId, generation: 0, from: 'PENDING', at: SENT_AT, leaseUntil: SENT_AT });
    const scale = options.withScale ? { scale: nps.survey!.scale } : {};
    await recordTouchpointOutcome(
      { touchpointId: surveyId, generation: 0, now: SENT_AT, outcome: 'SENT', messageId: 'm-1', survey: { surveyId, reminder: false, ...scale } },
      { touchpoints, metrics: world.deps.metrics },
    );
    return { ...world, touchpoints, deps: { ...world.deps, touchpoints, campaigns: new StaticCampaigns([nps]) } };
  }

  it("puts the send and its first answer in the same bucket: the day it was sent, not the day it was answered", async () => {
    const world = await sentSurvey({ withScale: true });
    expect(world.counters.sends()).toEqual([{ campaignId: nps.id, day: '2026-11-15', kind: 'nps', sent: 1, answered: 0 }]);
    const posted = await answerSurvey({ method: 'POST', params: link(10), locale: 'en', now: T0 }, world.deps);
    expect(posted.outcome).toBe('recorded');
    await answerSurvey({ method: 'POST', params: link(8), locale: 'en', now: at(2) }, world.deps);
    expect(world.counters.sends()).toEqual([{ campaignId: nps.id, day: '2026-11-15', kind: 'nps', sent: 1, answered: 1 }]);
    expect(world.responses.items.get(surveyId)).toMatchObject({ score: 8, surveySentAt: SENT_AT });
  });

  it('counts neither the send nor the answer of a survey sent without a scale (an execution from before the metrics)', async () => {
    const world = await sentSurvey({ withScale: false });
    expect((await answerSurvey({ method: 'POST', params: link(10), locale: 'en', now: T0 }, world.deps)).outcome).toBe('recorded');
    expect(world.counters.sends()).toEqual([]);
    expect(world.responses.items.get(surveyId)?.surveySentAt).toBeUndefined();
  });
});
