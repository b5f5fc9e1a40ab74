import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors.ts';
import { SurveyAnswerConflictError } from '../../../core/surveys/errors.ts';
import { SURVEY_ANSWERED, surveyAnsweredDetailSchema } from '../../../core/surveys/events.ts';
import { previewSurveyAnswer, recordSurveyResponse } from '../../../core/surveys/record-response.ts';
import { rebuildAggregates } from '../../../core/surveys/responses.ts';
import { signSurveyToken } from '../../../core/surveys/tokens.ts';
import { KEYRING, surveyWorld } from './fakes.ts';
import { CAMPAIGN, LINK_EXPIRY, click } from './support.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let world: ReturnType<typeof surveyWorld>;
beforeEach(() => {
  world = surveyWorld();
});

/** Nothing in any store and no event. */
function expectNothingWritten() {
  expect(world.responses.items.size).toBe(0);
  expect(world.aggregates.buckets.size).toBe(0);
  expect(world.events.published).toEqual([]);
}

/** The aggregates count exactly the stored responses, and nothing is left half done. */
function expectSettledAndConsistent() {
  const responses = world.responses.all();
  expect(world.aggregates.counts()).toEqual(rebuildAggregates(responses));
  expect(responses.filter((r) => r.aggregatedRevision !== r.revision || r.publishedRevision !== r.revision || r.settlement)).toEqual([]);
  expect(world.aggregates.markers()).toBe(0);
}

describe('recordSurveyResponse', () => {
  it('records a first answer, counts it, and publishes "Survey Answered" with ids only', async () => {
    const result = await recordSurveyResponse(click(9, T0, { comment: '  Lovely teapot, ada@example.com  ' }), world.deps);

    expect(result).toMatchObject({ outcome: 'recorded', settlement: 'settled', editableUntil: '2026-12-08T10:00:00.000Z' });
    expect(await world.responses.get('tp-1')).toEqual({
      surveyId: 'tp-1',
      kind: 'nps',
      campaignId: CAMPAIGN,
      customerId: 'c-1',
      orderId: 'o-1',
      score: 9,
      category: 'promoter',
      comment: 'Lovely teapot, ada@example.com',
      firstAnsweredAt: T0,
      answeredAt: T0,
      day: '2026-12-01',
      revision: 0,
      scoreHistory: [9],
      aggregatedRevision: 0,
      publishedRevision: 0,
    });
    expect(world.aggregates.counts()).toEqual([
      { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps', responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } },
    ]);
    expect(world.events.published).toEqual([
      {
        detailType: SURVEY_ANSWERED,
        detail: {
          surveyId: 'tp-1',
          campaignId: CAMPAIGN,
          customerId: 'c-1',
          orderId: 'o-1',
          kind: 'nps',
          score: 9,
          category: 'promoter',
          revision: 0,
          hasComment: true,
          firstAnsweredAt: T0,
          answeredAt: T0,
        },
      },
    ]);
    expect(surveyAnsweredDetailSchema.strict().parse(world.events.published[0]!.detail)).toBeTruthy();
    expect(JSON.stringify(world.events.published)).not.toMatch(/teapot|example\.com/);
    expectSettledAndConsistent();
  });

  describe('rejects a link that is not genuine and writes nothing', () => {
    const beforeRotation = { current: 'k1', secrets: { k1: KEYRING.secrets.k1! } };
    const forger = { current: 'k2', secrets: { k2: 'guessed-secret-guessed-secret-guessed-secret' } };
    const genuineT = (surveyId: string) => signSurveyToken(KEYRING, { surveyId, customerId: 'c-1', score: 9, expiresAt: LINK_EXPIRY });
    it.each([
      ['a tampered score', () => click(9, T0, { tamper: { v: '10' } }), 'bad-signature'],
      ['a tampered survey id', () => click(9, T0, { tamper: { s: 'tp-2' } }), 'bad-signature'],
      ['a tampered expiry', () => click(9, T0, { tamper: { e: String(Date.parse('2030-01-01T00:00:00Z') / 1000) } }), 'bad-signature'],
      ['a forged token', () => click(9, T0, { keyring: forger }), 'bad-signature'],
      ['a token replayed on another survey', () => click(9, T0, { surveyId: 'tp-2', tamper: { t: genuineT('tp-1') } }), 'bad-signature'],
      ['an expired link', () => click(9, '2027-01-31T00:00:00Z'), 'expired'],
      ['a key version the keyring does not have', () => ({ ...click(9, T0), token: `k0${click(9, T0).token.slice(2)}` }), 'unknown-key-version'],
      ['a malformed token', () => ({ ...click(9, T0), token: 'k2.not-a-mac' }), 'malformed'],
    ] as const)('%s', async (_what, request, reason) => {
      await expect(recordSurveyResponse(request(), world.deps)).rejects.toMatchObject({ name: 'SurveyTokenRejectedError', reason });
      expectNothingWritten();
    });

    it('a link signed with a rotated-out key: accepted while the key is in the keyring, rejected once removed', async () => {
      const request = click(9, T0, { keyring: beforeRotation });
      const withoutK1 = { ...world.deps, keyring: async () => ({ current: 'k2', secrets: { k2: KEYRING.secrets.k2! } }) };
      await expect(recordSurveyResponse(request, withoutK1)).rejects.toMatchObject({ reason: 'unknown-key-version' });
      expectNothingWritten();
      await expect(recordSurveyResponse(request, world.deps)).resolves.toMatchObject({ outcome: 'recorded' });
    });

    it('a genuine link whose score is not on the survey’s scale', async () => {
      await expect(recordSurveyResponse(click(9, T0, { kind: 'csat' }), world.deps)).rejects.toThrow(InvalidInputError);
      expectNothingWritten();
    });
  });

  it('keeps one response for a double click, with no second write and no second event', async () => {
    await recordSurveyResponse(click(9, T0), world.deps);
    const again = await recordSurveyResponse(click(9, at(0.1)), world.deps);

    expect(again).toMatchObject({ outcome: 'unchanged', settlement: 'not-needed', response: { revision: 0, answeredAt: T0 } });
    expect(world.events.published).toHaveLength(1);
    expect(world.aggregates.applied).toHaveLength(1);
    expectSettledAndConsistent();
  });

  it('changes the score within the edit window: the aggregates move, the latest score counts once', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    const changed = await recordSurveyResponse(click(9, at(60 * 24 * 3)), world.deps);

    expect(changed).toMatchObject({ outcome: 'changed', response: { score: 9, revision: 1, scoreHistory: [6, 9] } });
    expect(world.aggregates.counts()).toEqual([
      { campaignId: CAMPAIGN, day: '2026-12-01', kind: 'nps', responses: 1, scoreSum: 9, scores: { '9': 1 }, categories: { promoter: 1 } },
    ]);
    expect(world.events.published.map((e) => e.detail)).toMatchObject([
      { score: 6, category: 'detractor', revision: 0 },
      { score: 9, category: 'promoter', previousScore: 6, revision: 1 },
    ]);
    expectSettledAndConsistent();
  });

  it('rejects a change after the edit window with the answer kept, and publishes nothing', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    const late = await recordSurveyResponse(click(9, at(60 * 24 * 7 + 1)), world.deps);

    expect(late).toMatchObject({ outcome: 'closed', closedReason: 'edit-window', response: { score: 6, revision: 0 } });
    expect((await world.responses.get('tp-1'))?.score).toBe(6);
    expect(world.events.published).toHaveLength(1);
    expectSettledAndConsistent();
  });

  it('honours a shorter edit window', async () => {
    await recordSurveyResponse(click(6, T0), { ...world.deps, editWindow: 'PT1H' });
    await expect(recordSurveyResponse(click(9, at(61)), { ...world.deps, editWindow: 'PT1H' })).resolves.toMatchObject({ outcome: 'closed' });
  });

  it('records a comment added to the same score as a change without touching the aggregates', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    const result = await recordSurveyResponse(click(6, at(2), { comment: 'The box was damaged' }), world.deps);

    expect(result).toMatchObject({ outcome: 'changed', response: { comment: 'The box was damaged', revision: 1 } });
    expect(world.aggregates.applied).toHaveLength(1);
    expect(world.events.published.map((e) => e.detail)).toMatchObject([
      { revision: 0, hasComment: false },
      { revision: 1, hasComment: true, score: 6, previousScore: 6 },
    ]);
    expectSettledAndConsistent();
  });

  it('retries once when another answer to the same survey wins the race', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    world.responses.beforePut = () => {
      // Another tab's answer (7) lands between our read and our write.
      Object.assign(world.responses.items.get('tp-1')!, { score: 7, category: 'passive', revision: 1, scoreHistory: [6, 7], settlePending: true });
    };
    const result = await recordSurveyResponse(click(9, at(1)), world.deps);

    expect(result).toMatchObject({ outcome: 'changed', response: { score: 9, revision: 2, scoreHistory: [6, 7, 9] } });
    expectSettledAndConsistent();
  });

  it('gives up with SurveyAnswerConflictError when it loses the race twice', async () => {
    await recordSurveyResponse(click(6, T0), world.deps);
    const competitor = (score: number) => () => {
      const stored = world.responses.items.get('tp-1')!;
      Object.assign(stored, { score, revision: stored.revision + 1, scoreHistory: [...stored.scoreHistory, score], settlePending: true });
    };
    world.responses.beforePut = () => {
      competitor(7)();
      world.responses.beforePut = competitor(8);
    };
    await expect(recordSurveyResponse(click(9, at(1)), world.deps)).rejects.toThrow(SurveyAnswerConflictError);
  });
});

describe('previewSurveyAnswer (the GET)', () => {
  const preview = (score: number, now: string) => previewSurveyAnswer(click(score, now), world.deps);

  it('tells a first answer, the same answer, a change and a closed change apart, and writes nothing', async () => {
    expect(await preview(9, T0)).toEqual({ state: 'new', kind: 'nps', score: 9, editable: true });
    expectNothingWritten();

    await recordSurveyResponse(click(6, T0), world.deps);
    const before = structuredClone([...world.responses.items]);
    expect(await preview(6, at(5))).toEqual({
      state: 'same',
      kind: 'nps',
      score: 6,
      previousScore: 6,
      editableUntil: '2026-12-08T10:00:00.000Z',
      editable: true,
    });
    expect(await preview(9, at(5))).toMatchObject({ state: 'change', previousScore: 6, editable: true });
    expect(await preview(9, at(60 * 24 * 8))).toMatchObject({ state: 'closed', editable: false });
    expect([...world.responses.items]).toEqual(before);
    expect(world.events.published).toHaveLength(1);
  });

  it('rejects a bad link', async () => {
    await expect(previewSurveyAnswer({ ...click(9, T0), score: 10 }, world.deps)).rejects.toMatchObject({ reason: 'bad-signature' });
  });
});
