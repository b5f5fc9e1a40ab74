/** The targets report: rows with their flags, the text table and the CSV, rounded only here. */
import { describe, expect, it } from 'vitest';
import { computeMetrics, type MetricsInput, type MetricsResult } from '../../../core/metrics/compute.ts';
import { emptySegmentCounts } from '../../../core/metrics/model.ts';
import { buildReport, csvField, formatTarget, formatTrend, formatValue, reportCsv, reportHeading, reportTable, roundTo } from '../../../core/metrics/report.ts';
import { parseTargetsText } from '../../../core/metrics/targets.ts';
import { rebuildAggregates, type SurveyResponse } from '../../../core/surveys/responses.ts';
import { categoryOf, type SurveyKind } from '../../../core/surveys/scales.ts';

function answers(campaignId: string, kind: SurveyKind, day: string, scores: number[]) {
  return rebuildAggregates(
    scores.map(
      (score, i): SurveyResponse => ({
        surveyId: `${campaignId}-${kind}-${day}-${i}`,
        kind,
        campaignId,
        customerId: `c-${i}`,
        score,
        category: categoryOf(kind, score),
        firstAnsweredAt: `${day}T09:00:00.000Z`,
        answeredAt: `${day}T09:00:00.000Z`,
        day,
        revision: 0,
        scoreHistory: [score],
      }),
    ),
  );
}

const INPUT: MetricsInput = {
  surveys: [
    ...answers('nps-a', 'nps', '2026-03-01', [10, 10, 0]),
    ...answers('nps-a', 'nps', '2026-02-27', [10, 0]),
    ...answers('csat-b', 'csat', '2026-03-02', [5, 4, 1]),
    ...answers('csat-b', 'csat', '2026-02-26', [5, 5]),
    ...answers('ces-c', 'ces', '2026-03-03', [7, 6, 2]),
    ...answers('ces-c', 'ces', '2026-02-28', [5]),
  ],
  sends: [{ campaignId: 'nps-a', day: '2026-03-01', kind: 'nps', sent: 4, answered: 3 }],
  outcomes: [
    { day: '2026-03-02', renewed: { ...emptySegmentCounts(), promoter: 2 }, churned: { ...emptySegmentCounts(), detractor: 1 } },
    { day: '2026-02-27', renewed: { ...emptySegmentCounts(), none: 1 }, churned: emptySegmentCounts() },
  ],
  purchases: [{ day: '2026-03-03', customers: 2, repeatAfterDays: { '5': 1 } }],
};

const TARGETS = parseTargetsText(
  [
    'targets:',
    '  nps: { comparator: ">=", value: 30, campaigns: { nps-a: { value: 50 } } }',
    '  csat: { comparator: ">=", value: 80 }',
    '  ces: { comparator: ">=", value: 5 }',
    '  renewalRate: { comparator: ">=", value: 80 }',
    '  churnRate: { comparator: "<=", value: 20 }',
    '  repeatPurchaseRate: { comparator: ">=", value: 25 }',
    '  retentionPassive: { comparator: ">=", value: 50 }',
  ].join('\n'),
  'targets.yaml',
).config!;

const RESULT = computeMetrics(INPUT, { from: '2026-03-01', to: '2026-03-03' });

describe('report rows', () => {
  const rows = buildReport(RESULT, TARGETS);

  it('one row per metric, overall', () => {
    expect(rows.map((r) => r.metric)).toEqual([
      'nps',
      'csat',
      'ces',
      'responseRate',
      'renewalRate',
      'churnRate',
      'repeatPurchaseRate',
      'retentionPromoter',
      'retentionPassive',
      'retentionDetractor',
      'retentionNone',
    ]);
  });

  it('flags on and off target, and judges the movement by the comparator', () => {
    const row = (id: string) => rows.find((r) => r.metric === id)!;
    expect(row('nps')).toEqual({
      metric: 'nps',
      label: 'NPS',
      unit: 'points',
      target: { comparator: '>=', value: 30, source: 'default' },
      current: ((2 - 1) / 3) * 100,
      count: 3,
      provisional: false,
      previous: 0,
      difference: ((2 - 1) / 3) * 100,
      direction: 'up',
      movement: 'better',
      status: 'on-target',
      onTarget: true,
    });
    expect(row('csat')).toMatchObject({ current: (2 / 3) * 100, previous: 100, direction: 'down', movement: 'worse', status: 'off-target', onTarget: false });
    expect(row('ces')).toMatchObject({ current: 5, previous: 5, difference: 0, direction: 'flat', movement: 'unchanged', status: 'on-target' });
    expect(row('responseRate')).toMatchObject({ current: 75, previous: undefined, direction: undefined, movement: undefined, status: 'no-target', onTarget: undefined });
    expect(row('churnRate')).toMatchObject({ current: (1 / 3) * 100, previous: 0, direction: 'up', movement: 'worse', status: 'off-target' });
    expect(row('repeatPurchaseRate')).toMatchObject({ current: 50, count: 2, provisional: true, status: 'on-target' });
    expect(row('retentionPassive')).toMatchObject({ current: undefined, count: 0, status: 'no-data', onTarget: undefined });
    expect(row('retentionNone')).toMatchObject({ current: undefined, previous: 100, direction: undefined, status: 'no-target' });
  });

  it('for a campaign: its survey metrics and its target overrides', () => {
    const campaign = buildReport(RESULT, TARGETS, { campaignId: 'nps-a' });
    expect(campaign.map((r) => [r.metric, r.current, r.target?.value, r.target?.source, r.status])).toEqual([
      ['nps', ((2 - 1) / 3) * 100, 50, 'campaign', 'off-target'],
      ['csat', undefined, 80, 'default', 'no-data'],
      ['ces', undefined, 5, 'default', 'no-data'],
      ['responseRate', 75, undefined, undefined, 'no-target'],
    ]);
    expect(buildReport(RESULT, TARGETS, { campaignId: 'unknown' }).every((r) => r.current === undefined && r.count === 0)).toBe(true);
  });

  it('a difference that rounds to zero is flat, however it was computed', () => {
    const result = structuredClone(RESULT) as MetricsResult;
    result.overall.metrics.nps = { value: 40.04, count: 10 };
    result.overall.trend.nps = { previous: 40, difference: 0.04, direction: 'up' };
    result.overall.metrics.churnRate = { value: 10, count: 10 };
    result.overall.trend.churnRate = { previous: 12, difference: -2, direction: 'down' };
    const rows = buildReport(result, TARGETS);
    expect(rows.find((r) => r.metric === 'nps')).toMatchObject({ direction: 'flat', movement: 'unchanged' });
    expect(rows.find((r) => r.metric === 'churnRate')).toMatchObject({ direction: 'down', movement: 'better', status: 'on-target' });
    // Without a target the metric's own nature decides: less churn is better, more renewals are.
    const untargeted = buildReport(result, { targets: {} });
    expect(untargeted.find((r) => r.metric === 'churnRate')).toMatchObject({ movement: 'better', status: 'no-target' });
  });
});

describe('text', () => {
  it('the table', () => {
    expect(reportHeading(RESULT)).toBe('all campaigns, 2026-03-01 – 2026-03-03 (3 days), trend against 2026-02-26 – 2026-02-28');
    expect(reportTable(buildReport(RESULT, TARGETS))).toEqual([
      'Metric                      | Target | Current | n | Trend              | Status',
      '----------------------------+--------+---------+---+--------------------+-----------',
      'NPS                         | ≥ 30   | 33.3    | 3 | ↑ +33.3 from 0.0   | on target',
      'CSAT (% satisfied)          | ≥ 80 % | 66.7 %  | 3 | ↓ -33.3 from 100.0 | OFF TARGET',
      'CES (mean, 7 = very easy)   | ≥ 5    | 5.00    | 3 | → 0.00 from 5.00   | on target',
      'Response rate               | –      | 75.0 %  | 4 | –                  |',
      'Renewal rate                | ≥ 80 % | 66.7 %  | 3 | ↓ -33.3 from 100.0 | OFF TARGET',
      'Churn rate                  | ≤ 20 % | 33.3 %  | 3 | ↑ +33.3 from 0.0   | OFF TARGET',
      'Repeat-purchase rate        | ≥ 25 % | 50.0 %* | 2 | –                  | on target',
      'Renewal rate, promoters     | –      | 100.0 % | 2 | –                  |',
      'Renewal rate, passives      | ≥ 50 % | no data | 0 | –                  | no data',
      'Renewal rate, detractors    | –      | 0.0 %   | 1 | –                  |',
      'Renewal rate, no NPS answer | –      | no data | 0 | was 100.0          |',
      '* provisional: some customers can still make a second purchase within the repeat window',
    ]);
  });

  it('a campaign’s table, without the footnote', () => {
    expect(reportHeading(RESULT, { campaignId: 'nps-a' })).toBe('campaign nps-a, 2026-03-01 – 2026-03-03 (3 days), trend against 2026-02-26 – 2026-02-28');
    expect(reportTable(buildReport(RESULT, TARGETS, { campaignId: 'nps-a' }))).toEqual([
      'Metric                    | Target          | Current | n | Trend            | Status',
      '--------------------------+-----------------+---------+---+------------------+-----------',
      'NPS                       | ≥ 50 (campaign) | 33.3    | 3 | ↑ +33.3 from 0.0 | OFF TARGET',
      'CSAT (% satisfied)        | ≥ 80 %          | no data | 0 | –                | no data',
      'CES (mean, 7 = very easy) | ≥ 5             | no data | 0 | –                | no data',
      'Response rate             | –               | 75.0 %  | 4 | –                |',
    ]);
  });

  it('values, targets and trends', () => {
    expect(formatValue('nps', -12.45)).toBe('-12.5');
    expect(formatValue('nps', -0.04)).toBe('0.0');
    expect(formatValue('csat', 79.96)).toBe('80.0 %');
    expect(formatValue('ces', 2.125)).toBe('2.13');
    expect(formatValue('ces', undefined)).toBe('no data');
    expect(formatTarget('churnRate', { comparator: '<=', value: 12.5, source: 'default' })).toBe('≤ 12.5 %');
    expect(formatTarget('nps', undefined)).toBe('–');
    expect(formatTrend({ metric: 'nps', previous: -10, difference: -5.55, direction: 'down' })).toBe('↓ -5.6 from -10.0');
    expect(formatTrend({ metric: 'nps', previous: 10, difference: 0.01, direction: 'flat' })).toBe('→ 0.0 from 10.0');
    expect(roundTo(-0.04, 1)).toBe(0);
    expect(Object.is(roundTo(-0.04, 1), -0)).toBe(false);
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(-2.5, 0)).toBe(-3);
    expect(roundTo(2.345e-7, 1)).toBe(0);
    expect(roundTo(1e21, 1)).toBe(1e21);
  });
});

describe('CSV', () => {
  it('a header and one line per metric, rounded like the table, labels quoted when they hold a comma', () => {
    expect(reportCsv(buildReport(RESULT, TARGETS))).toEqual([
      'metric,label,target_comparator,target_value,target_source,current,count,provisional,previous,difference,direction,movement,status',
      'nps,NPS,>=,30,default,33.3,3,false,0.0,33.3,up,better,on-target',
      'csat,CSAT (% satisfied),>=,80,default,66.7,3,false,100.0,-33.3,down,worse,off-target',
      'ces,"CES (mean, 7 = very easy)",>=,5,default,5.00,3,false,5.00,0.00,flat,unchanged,on-target',
      'responseRate,Response rate,,,,75.0,4,false,,,,,no-target',
      'renewalRate,Renewal rate,>=,80,default,66.7,3,false,100.0,-33.3,down,worse,off-target',
      'churnRate,Churn rate,<=,20,default,33.3,3,false,0.0,33.3,up,worse,off-target',
      'repeatPurchaseRate,Repeat-purchase rate,>=,25,default,50.0,2,true,,,,,on-target',
      'retentionPromoter,"Renewal rate, promoters",,,,100.0,2,false,,,,,no-target',
      'retentionPassive,"Renewal rate, passives",>=,50,default,,0,false,,,,,no-data',
      'retentionDetractor,"Renewal rate, detractors",,,,0.0,1,false,,,,,no-target',
      'retentionNone,"Renewal rate, no NPS answer",,,,,0,false,100.0,,,,no-target',
    ]);
  });

  it('quotes fields as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });
});
