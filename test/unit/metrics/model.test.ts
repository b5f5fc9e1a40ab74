/** The per-day records: what each event adds, and that repeats and late events keep them right. */
import { utcDay } from '../../../core/surveys/responses.ts';
import { describe, expect, it } from 'vitest';
import {
  MAX_REPEAT_WINDOW_DAYS,
  addPurchaseIncrement,
  aggregateDrift,
  daysBetween,
  daysOf,
  emptyPurchaseCohort,
  npsSegmentOf,
  outcomeCounters,
  purchaseContribution,
  purchaseCounters,
  rebuildOutcomeAggregates,
  rebuildPurchaseCohorts,
  rebuildSendAggregates,
  recordOutcome,
  recordPurchase,
  sendCounters,
  surveyAnsweredDelta,
  surveySentDelta,
  type PurchaseCohortAggregate,
  type PurchaseHistory,
  type RecordedOutcome,
} from '../../../core/metrics/model.ts';

describe('survey sends', () => {
  const send = { campaignId: 'nps-after-purchase', kind: 'nps' as const, sentAt: '2026-12-31T23:30:00-02:00' };

  it('count in the UTC day of sending, the first answer in the same bucket', () => {
    expect(surveySentDelta(send)).toEqual({ campaignId: 'nps-after-purchase', day: '2027-01-01', kind: 'nps', sent: 1, answered: 0 });
    expect(surveyAnsweredDelta(send)).toEqual({ campaignId: 'nps-after-purchase', day: '2027-01-01', kind: 'nps', sent: 0, answered: 1 });
  });

  it('rebuild from the sent surveys and whether each has a response', () => {
    expect(
      rebuildSendAggregates([
        { ...send, answered: true },
        { ...send, answered: false },
        { ...send, kind: 'csat', answered: false },
        { ...send, sentAt: '2026-12-31T10:00:00Z', answered: true },
      ]),
    ).toEqual([
      { campaignId: 'nps-after-purchase', day: '2026-12-31', kind: 'nps', sent: 1, answered: 1 },
      { campaignId: 'nps-after-purchase', day: '2027-01-01', kind: 'csat', sent: 1, answered: 0 },
      { campaignId: 'nps-after-purchase', day: '2027-01-01', kind: 'nps', sent: 2, answered: 1 },
    ]);
  });
});

describe('NPS segment of a customer', () => {
  const answer = (category: string) => ({ latestSurvey: { nps: { score: 0, category, surveyId: 's', answeredAt: '2026-01-01T00:00:00Z' } } });

  it('is the category of the latest NPS answer, or none', () => {
    expect(npsSegmentOf(answer('promoter'))).toBe('promoter');
    expect(npsSegmentOf(answer('passive'))).toBe('passive');
    expect(npsSegmentOf(answer('detractor'))).toBe('detractor');
    expect(npsSegmentOf({ latestSurvey: { csat: { score: 5, category: 'satisfied', surveyId: 's', answeredAt: '2026-01-01T00:00:00Z' } } })).toBe('none');
    expect(npsSegmentOf({})).toBe('none');
    expect(npsSegmentOf(undefined)).toBe('none');
  });
});

describe('contract outcomes', () => {
  const churn: RecordedOutcome = { result: 'CHURNED', at: '2027-01-02T03:00:00.000Z', remindersSent: 2, endDate: '2027-01-01', npsSegment: 'detractor' };
  const lateRenewal: RecordedOutcome = { result: 'RENEWED', at: '2027-01-04T09:00:00.000Z', remindersSent: 3, endDate: '2027-01-01', npsSegment: 'passive' };
  const nextTerm: RecordedOutcome = { result: 'RENEWED', at: '2027-03-30T12:00:00.000Z', remindersSent: 1, endDate: '2027-04-01', npsSegment: 'promoter' };

  it('a first outcome adds one in its day, by result and segment', () => {
    expect(recordOutcome([], churn)).toEqual({ history: [churn], increments: [{ day: '2027-01-02', result: 'CHURNED', segment: 'detractor', by: 1 }] });
  });

  it('the same outcome again (a re-delivered event) adds nothing', () => {
    expect(recordOutcome([churn], { ...churn })).toEqual({ history: [churn], increments: [] });
  });

  it('a late renewal of a term the sweep recorded as churned moves the count', () => {
    expect(recordOutcome([churn], lateRenewal)).toEqual({
      history: [lateRenewal],
      increments: [
        { day: '2027-01-02', result: 'CHURNED', segment: 'detractor', by: -1 },
        { day: '2027-01-04', result: 'RENEWED', segment: 'passive', by: 1 },
      ],
    });
  });

  it('the next term adds its own outcome and keeps the earlier one', () => {
    const { history, increments } = recordOutcome([lateRenewal], nextTerm);
    expect(history).toEqual([lateRenewal, nextTerm]);
    expect(increments).toEqual([{ day: '2027-03-30', result: 'RENEWED', segment: 'promoter', by: 1 }]);
    expect(rebuildOutcomeAggregates(history)).toEqual([
      { day: '2027-01-04', renewed: { promoter: 0, passive: 1, detractor: 0, none: 0 }, churned: { promoter: 0, passive: 0, detractor: 0, none: 0 } },
      { day: '2027-03-30', renewed: { promoter: 1, passive: 0, detractor: 0, none: 0 }, churned: { promoter: 0, passive: 0, detractor: 0, none: 0 } },
    ]);
  });

  it('an outcome time with an offset counts in its UTC day', () => {
    expect(recordOutcome([], { ...churn, at: '2027-01-01T22:00:00-05:00' }).increments[0]?.day).toBe('2027-01-02');
  });
});

describe('purchases', () => {
  const first = { orderId: 'o-1', at: '2026-03-01T10:00:00.000Z' };

  it('a first purchase puts the customer in the cohort of its UTC day', () => {
    expect(recordPurchase(undefined, { orderId: 'o-1', at: '2026-02-28T23:30:00-01:00' })).toEqual({
      history: { first: { orderId: 'o-1', at: '2026-03-01T00:30:00.000Z' } },
      increments: [{ day: '2026-03-01', customers: 1, repeatAfterDays: {} }],
      changed: true,
    });
  });

  it('a second purchase records the days after the first (0 on the same day)', () => {
    const { history } = recordPurchase(undefined, first);
    expect(recordPurchase(history, { orderId: 'o-2', at: '2026-03-01T18:00:00Z' }).increments).toEqual([
      { day: '2026-03-01', customers: 0, repeatAfterDays: { '0': 1 } },
    ]);
    expect(recordPurchase(history, { orderId: 'o-2', at: '2026-05-30T00:00:00Z' }).increments).toEqual([
      { day: '2026-03-01', customers: 0, repeatAfterDays: { '90': 1 } },
    ]);
  });

  it('a re-delivered order, or a third purchase after the second, changes nothing', () => {
    const one = recordPurchase(undefined, first).history;
    const two = recordPurchase(one, { orderId: 'o-2', at: '2026-03-10T00:00:00Z' }).history;
    expect(recordPurchase(one, { ...first })).toEqual({ history: one, increments: [], changed: false });
    expect(recordPurchase(two, { orderId: 'o-2', at: '2026-03-10T00:00:00Z' })).toEqual({ history: two, increments: [], changed: false });
    expect(recordPurchase(two, { orderId: 'o-3', at: '2026-03-20T00:00:00Z' })).toEqual({ history: two, increments: [], changed: false });
  });

  it('a third purchase that happened before the second takes its place', () => {
    const two: PurchaseHistory = { first, second: { orderId: 'o-2', at: '2026-04-20T00:00:00.000Z' } };
    expect(recordPurchase(two, { orderId: 'o-3', at: '2026-03-05T00:00:00Z' })).toEqual({
      history: { first, second: { orderId: 'o-3', at: '2026-03-05T00:00:00.000Z' } },
      increments: [{ day: '2026-03-01', customers: 0, repeatAfterDays: { '4': 1, '50': -1 } }],
      changed: true,
    });
  });

  it('an earlier order arriving late moves the customer to an earlier cohort', () => {
    const one = recordPurchase(undefined, first).history;
    expect(recordPurchase(one, { orderId: 'o-0', at: '2026-02-20T00:00:00Z' })).toEqual({
      history: { first: { orderId: 'o-0', at: '2026-02-20T00:00:00.000Z' }, second: first },
      increments: [
        { day: '2026-03-01', customers: -1, repeatAfterDays: {} },
        { day: '2026-02-20', customers: 1, repeatAfterDays: { '9': 1 } },
      ],
      changed: true,
    });
  });

  it('two orders at the same instant are ordered by order id', () => {
    const one = recordPurchase(undefined, { orderId: 'o-b', at: first.at }).history;
    expect(recordPurchase(one, { orderId: 'o-a', at: first.at }).history).toEqual({ first: { orderId: 'o-a', at: first.at }, second: { orderId: 'o-b', at: first.at } });
  });

  it(`a second purchase more than ${MAX_REPEAT_WINDOW_DAYS} days later is no repeat for any window`, () => {
    expect(purchaseContribution({ first, second: { orderId: 'o-2', at: '2027-03-01T10:00:00.000Z' } })).toEqual({ day: '2026-03-01', repeatAfterDays: 365 });
    expect(purchaseContribution({ first, second: { orderId: 'o-2', at: '2027-03-02T10:00:00.000Z' } })).toEqual({ day: '2026-03-01' });
  });

  it('increments add up to the rebuilt cohorts, and counts that reach zero disappear', () => {
    const histories: PurchaseHistory[] = [
      { first },
      { first: { orderId: 'o-5', at: '2026-03-01T20:00:00.000Z' }, second: { orderId: 'o-6', at: '2026-03-03T00:00:00.000Z' } },
      { first: { orderId: 'o-7', at: '2026-03-02T00:00:00.000Z' }, second: { orderId: 'o-8', at: '2026-03-02T01:00:00.000Z' } },
    ];
    expect(rebuildPurchaseCohorts(histories)).toEqual([
      { day: '2026-03-01', customers: 2, repeatAfterDays: { '2': 1 } },
      { day: '2026-03-02', customers: 1, repeatAfterDays: { '0': 1 } },
    ]);
    const moved = addPurchaseIncrement({ day: '2026-03-01', customers: 1, repeatAfterDays: { '2': 1 } }, { day: '2026-03-01', customers: -1, repeatAfterDays: { '2': -1 } });
    expect(moved).toEqual(emptyPurchaseCohort('2026-03-01'));
  });
});

describe('storage form and drift', () => {
  it('counters are flat, zero counts left out', () => {
    expect(sendCounters({ campaignId: 'c', day: '2026-01-01', kind: 'nps', sent: 3, answered: 0 })).toEqual({ sent: 3 });
    expect(
      outcomeCounters({ day: '2026-01-01', renewed: { promoter: 2, passive: 0, detractor: 0, none: 1 }, churned: { promoter: 0, passive: 0, detractor: 4, none: 0 } }),
    ).toEqual({ churned_detractor: 4, renewed_none: 1, renewed_promoter: 2 });
    expect(purchaseCounters({ day: '2026-01-01', customers: 5, repeatAfterDays: { '0': 1, '30': 2 } })).toEqual({ customers: 5, repeat_0: 1, repeat_30: 2 });
  });

  it('drift lists only the counters that differ, a missing record counting as zeros', () => {
    const stored: PurchaseCohortAggregate[] = [
      { day: '2026-01-01', customers: 5, repeatAfterDays: { '3': 1 } },
      { day: '2026-01-02', customers: 1, repeatAfterDays: {} },
    ];
    const expected: PurchaseCohortAggregate[] = [
      { day: '2026-01-01', customers: 4, repeatAfterDays: { '3': 1 } },
      { day: '2026-01-03', customers: 2, repeatAfterDays: { '1': 1 } },
    ];
    expect(aggregateDrift(stored, expected, (r) => r.day, purchaseCounters)).toEqual([
      { key: '2026-01-01', counters: { customers: [5, 4] } },
      { key: '2026-01-02', counters: { customers: [1, 0] } },
      { key: '2026-01-03', counters: { customers: [0, 2], repeat_1: [0, 1] } },
    ]);
    expect(aggregateDrift(stored, stored, (r) => r.day, purchaseCounters)).toEqual([]);
  });
});

describe('days', () => {
  it('counts calendar days across month, year and leap-day boundaries', () => {
    expect(daysBetween('2026-12-31', '2027-01-01')).toBe(1);
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysBetween('2027-03-01', '2026-03-01')).toBe(-365);
    expect(daysOf('2028-02-27', '2028-03-01')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(daysOf('2026-01-02', '2026-01-01')).toEqual([]);
  });
});

describe('utcDay (the day every record is keyed by)', () => {
  it.each([
    ['2026-03-01T09:30:00Z', '2026-03-01'],
    ['2026-03-01T23:59:59.999Z', '2026-03-01'],
    ['2026-12-31T23:59:59.999999999Z', '2026-12-31'],
    ['2026-03-01T23:30:00+02:00', '2026-03-01'],
    ['2026-03-01T23:30:00-02:00', '2026-03-02'],
    ['2026-03-01', '2026-03-01'],
    ['2028-02-29T12:00:00Z', '2028-02-29'],
  ])('%s is on %s', (at, day) => {
    expect(utcDay(at)).toBe(day);
  });

  it.each(['2026-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', ''])('rejects %s', (at) => {
    expect(() => utcDay(at)).toThrow(RangeError);
  });
});
