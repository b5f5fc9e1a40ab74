import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../core/errors.ts';
import {
  MAX_COMMENT_LENGTH,
  MAX_REVISION,
  addDelta,
  aggregateDelta,
  decideAnswer,
  editableUntil,
  emptyAggregate,
  isEmptyDelta,
  normalizeComment,
  rebuildAggregates,
  surveyMetric,
  utcDay,
  type SurveyFacts,
  type SurveyResponse,
} from '../../../core/surveys/responses.ts';

const facts: SurveyFacts = { surveyId: 'tp-1', kind: 'nps', campaignId: 'nps-after-delivery', customerId: 'c-1', orderId: 'o-1' };
const FIRST = '2026-12-01T23:30:00.000Z';

function answered(score: number, now = FIRST, comment?: string): SurveyResponse {
  const decision = decideAnswer(undefined, { facts, score, comment, now });
  if (decision.action !== 'create') throw new Error('expected a first answer');
  return decision.response;
}

describe('normalizeComment', () => {
  it('trims, keeps newlines, drops control characters and empties', () => {
    expect(normalizeComment('  Great\r\nservice\u0007!\t ')).toBe('Great\nservice!');
    expect(normalizeComment(' \n\t ')).toBeUndefined();
    expect(normalizeComment(undefined)).toBeUndefined();
  });

  it('cuts at 2000 characters without splitting a character', () => {
    const long = `${'é'.repeat(MAX_COMMENT_LENGTH - 1)}😀😀😀`;
    const cut = normalizeComment(long)!;
    expect(Array.from(cut)).toHaveLength(MAX_COMMENT_LENGTH);
    expect(cut.endsWith('é😀')).toBe(true);
  });
});

describe('decideAnswer', () => {
  it('creates the first answer at revision 0, bucketed on the UTC day of the answer', () => {
    expect(answered(9, '2026-12-01T23:30:00+00:00', 'Fast delivery')).toEqual({
      ...facts,
      score: 9,
      category: 'promoter',
      comment: 'Fast delivery',
      firstAnsweredAt: FIRST,
      answeredAt: FIRST,
      day: '2026-12-01',
      revision: 0,
      scoreHistory: [9],
    });
    expect(utcDay('2026-12-02T00:30:00+02:00')).toBe('2026-12-01');
  });

  it('changes the score within the edit window, keeping the first answer time and bucket', () => {
    const first = answered(6);
    const decision = decideAnswer(first, { facts, score: 9, now: '2026-12-05T08:00:00Z' });
    expect(decision).toMatchObject({
      action: 'edit',
      response: { score: 9, category: 'promoter', revision: 1, scoreHistory: [6, 9], firstAnsweredAt: FIRST, day: '2026-12-01', answeredAt: '2026-12-05T08:00:00.000Z' },
    });
  });

  it('treats the same answer again as unchanged, and an empty comment as keeping the earlier one', () => {
    const first = answered(6, FIRST, 'Slow');
    expect(decideAnswer(first, { facts, score: 6, now: '2026-12-02T00:00:00Z' })).toEqual({ action: 'unchanged', response: first });
    expect(decideAnswer(first, { facts, score: 6, comment: 'Slow', now: '2026-12-20T00:00:00Z' })).toEqual({ action: 'unchanged', response: first });
    const edit = decideAnswer(first, { facts, score: 8, now: '2026-12-02T00:00:00Z' });
    expect(edit.action === 'edit' && edit.response.comment).toBe('Slow');
  });

  it('counts a new comment on the same score as a change', () => {
    const decision = decideAnswer(answered(6), { facts, score: 6, comment: 'Box was damaged', now: '2026-12-02T00:00:00Z' });
    expect(decision).toMatchObject({ action: 'edit', response: { score: 6, comment: 'Box was damaged', revision: 1, scoreHistory: [6, 6] } });
  });

  it('closes changes after the edit window (7 days by default) and after too many changes', () => {
    const first = answered(6);
    expect(editableUntil(first)).toBe('2026-12-08T23:30:00.000Z');
    expect(decideAnswer(first, { facts, score: 9, now: '2026-12-08T23:30:00Z' }).action).toBe('edit');
    expect(decideAnswer(first, { facts, score: 9, now: '2026-12-08T23:30:00.001Z' })).toEqual({ action: 'closed', reason: 'edit-window', response: first });
    expect(decideAnswer(first, { facts, score: 9, now: '2026-12-02T00:30:00Z' }, 'PT1H').action).toBe('edit');
    expect(decideAnswer(first, { facts, score: 9, now: '2026-12-02T00:30:01Z' }, 'PT1H').action).toBe('closed');

    const worn = { ...first, revision: MAX_REVISION, scoreHistory: Array<number>(MAX_REVISION + 1).fill(6) };
    expect(decideAnswer(worn, { facts, score: 9, now: '2026-12-02T00:00:00Z' })).toMatchObject({ action: 'closed', reason: 'too-many-changes' });
  });

  it('refuses an answer for a survey of another customer or kind', () => {
    const first = answered(6);
    expect(() => decideAnswer(first, { facts: { ...facts, customerId: 'c-2' }, score: 9, now: FIRST })).toThrow(InvalidInputError);
    expect(() => decideAnswer(first, { facts: { ...facts, kind: 'csat' }, score: 4, now: FIRST })).toThrow(/nps survey/);
  });
});

describe('aggregate deltas', () => {
  it('counts a first answer: one response, its score, its category, its sum', () => {
    expect(aggregateDelta(undefined, { kind: 'nps', score: 9 })).toEqual({
      responses: 1,
      scoreSum: 9,
      scores: { '9': 1 },
      categories: { promoter: 1 },
    });
  });

  it('moves a changed score: −1 old, +1 new, the sum by the difference, no new response', () => {
    expect(aggregateDelta({ kind: 'nps', score: 6 }, { kind: 'nps', score: 9 })).toEqual({
      responses: 0,
      scoreSum: 3,
      scores: { '6': -1, '9': 1 },
      categories: { detractor: -1, promoter: 1 },
    });
    expect(aggregateDelta({ kind: 'nps', score: 9 }, { kind: 'nps', score: 10 })).toEqual({
      responses: 0,
      scoreSum: 1,
      scores: { '9': -1, '10': 1 },
      categories: {},
    });
  });

  it('is empty for the same score', () => {
    expect(isEmptyDelta(aggregateDelta({ kind: 'ces', score: 3 }, { kind: 'ces', score: 3 }))).toBe(true);
    expect(() => aggregateDelta({ kind: 'ces', score: 3 }, { kind: 'csat', score: 3 })).toThrow(RangeError);
  });

  it('sums the deltas of every change to what a rebuild counts', () => {
    const history = [6, 9, 9, 3, 10];
    let aggregate = emptyAggregate({ campaignId: 'nps-after-delivery', day: '2026-12-01', kind: 'nps' });
    history.forEach((score, i) => {
      aggregate = addDelta(aggregate, aggregateDelta(i === 0 ? undefined : { kind: 'nps', score: history[i - 1]! }, { kind: 'nps', score }));
    });
    const response = { ...answered(6), score: 10, category: 'promoter' as const, revision: 4, scoreHistory: history };
    expect(rebuildAggregates([response])).toEqual([aggregate]);
    expect(aggregate).toEqual({ ...emptyAggregate(aggregate), responses: 1, scoreSum: 10, scores: { '10': 1 }, categories: { promoter: 1 } });
  });
});

describe('rebuildAggregates and surveyMetric', () => {
  const response = (surveyId: string, kind: SurveyResponse['kind'], score: number, day: string, campaignId = 'c-a'): SurveyResponse => {
    const decision = decideAnswer(undefined, { facts: { surveyId, kind, campaignId, customerId: 'c-1' }, score, now: `${day}T12:00:00Z` });
    return decision.response;
  };

  it('buckets responses per campaign × first-answer day × kind, sorted', () => {
    const aggregates = rebuildAggregates([
      response('s3', 'nps', 3, '2026-12-02'),
      response('s1', 'nps', 10, '2026-12-01'),
      response('s2', 'nps', 9, '2026-12-01'),
      response('s4', 'csat', 4, '2026-12-01'),
      response('s5', 'nps', 7, '2026-12-01', 'c-b'),
    ]);
    expect(aggregates.map((a) => `${a.campaignId} ${a.day} ${a.kind} ${a.responses}`)).toEqual([
      'c-a 2026-12-01 csat 1',
      'c-a 2026-12-01 nps 2',
      'c-a 2026-12-02 nps 1',
      'c-b 2026-12-01 nps 1',
    ]);
    expect(aggregates[1]).toEqual({
      campaignId: 'c-a',
      day: '2026-12-01',
      kind: 'nps',
      responses: 2,
      scoreSum: 19,
      scores: { '9': 1, '10': 1 },
      categories: { promoter: 2 },
    });
  });

  it('derives NPS, CSAT and CES from the counts', () => {
    const nps = rebuildAggregates(['10', '9', '8', '6', '0'].map((s, i) => response(`n${i}`, 'nps', Number(s), '2026-12-01')));
    expect(surveyMetric('nps', nps)).toEqual({ kind: 'nps', responses: 5, value: 0, categories: { promoter: 2, passive: 1, detractor: 2 } });
    const csat = rebuildAggregates([5, 4, 3, 1].map((s, i) => response(`c${i}`, 'csat', s, '2026-12-01')));
    expect(surveyMetric('csat', csat).value).toBe(50);
    const ces = rebuildAggregates([7, 6, 2].map((s, i) => response(`e${i}`, 'ces', s, `2026-12-0${i + 1}`)));
    expect(surveyMetric('ces', ces).value).toBe(5);
    expect(surveyMetric('ces', []).value).toBeUndefined();
  });
});
