/**
 * Generated datasets driven through the real use cases — recordTouchpointOutcome (sends, some recorded twice),
 * recordSurveyResponse (edited scores, repeated clicks, clicks after the edit window), ingestCommerceEvent (purchases
 * re-delivered, out of order, some of one customer at once), applyContractEvent and recordContractEnds (renewals,
 * cancellations, churn recorded by the sweep, late renewals after it, re-deliveries, contracts still running, the
 * customers' NPS answers changing meanwhile) — then read with readMetrics, give the values and counts of an
 * independent recomputation from the raw data (oracle.ts; contractOracle in use-case-world.ts), overall, per campaign
 * and per day, week and month; and nothing is left pending.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../../core/contracts/model.ts';
import type { MetricSet, ScopeMetrics, SeriesPoint } from '../../../core/metrics/compute.ts';
import { readMetrics, type MetricsView } from '../../../core/metrics/read-metrics.ts';
import { loadTargetsFile } from '../../../core/metrics/targets.ts';
import { Oracle, oracleBucket, oracleDays, oraclePlusDays, type OracleSet } from './oracle.ts';
import {
  FakesMetricsReader,
  contractMetrics,
  contractOracle,
  driveContracts,
  driveSurveysAndPurchases,
  generateContractWorld,
  leftovers,
  useCaseFakes,
  type ContractDriveLog,
  type DriveLog,
  type OracleOutcome,
  type UseCaseFakes,
} from './use-case-world.ts';
import { WORLD_FROM, WORLD_TO, generateWorld } from './world.ts';

const SEEDS = [3, 11, 2027, 90210];
const TARGETS = loadTargetsFile('metrics/targets.yaml');

type Query = { from: string; to: string; campaignId?: string; asOf?: string };
const QUERIES: readonly Query[] = [
  // The whole world (its previous period holds only the contracts' early outcomes and purchases).
  { from: WORLD_FROM, to: WORLD_TO },
  // 30 days across ISO week 2026-W53 and the turn of the year, read later (repeat windows closed).
  { from: '2026-12-10', to: '2027-01-08', asOf: '2027-06-30' },
  // One campaign over the whole world, and another over a month.
  { from: WORLD_FROM, to: WORLD_TO, campaignId: 'nps-quarterly' },
  { from: '2026-11-01', to: '2026-11-30', campaignId: 'csat-support' },
];

const SURVEY_METRICS = ['nps', 'csat', 'ces', 'responseRate'] as const;

/** What the recomputation says for one scope over `days`. */
function expectedSet(
  oracle: Oracle,
  outcomes: readonly OracleOutcome[],
  days: readonly string[],
  options: { scope: 'overall' | 'campaign'; campaignId?: string; asOf: string },
): OracleSet {
  const set = new Set(days);
  const common = { repeatWindowDays: TARGETS.repeatPurchaseWindowDays, asOf: options.asOf };
  const surveys = oracle.metrics(set, { ...common, ...(options.campaignId !== undefined ? { campaignId: options.campaignId } : {}) });
  const survey = Object.fromEntries(SURVEY_METRICS.map((id) => [id, surveys[id]]));
  if (options.scope === 'campaign') return survey;
  // Contracts and purchases belong to no campaign: the overall scope has all of them, whatever the campaign asked.
  const all = oracle.metrics(set, common);
  return { ...all, ...survey, ...contractMetrics(outcomes, set) };
}

function expectMetrics(actual: MetricSet, expected: OracleSet, where: string): void {
  expect(Object.keys(actual).sort(), `${where}: metrics`).toEqual(Object.keys(expected).sort());
  for (const [id, want] of Object.entries(expected)) {
    const got = actual[id as keyof MetricSet];
    expect(got?.count, `${where} ${id}: count`).toBe(want.count);
    if (want.value === undefined) expect(got?.value, `${where} ${id}: value`).toBeUndefined();
    else expect(got?.value, `${where} ${id}: value`).toBeCloseTo(want.value, 9);
    expect(got?.provisional, `${where} ${id}: provisional`).toBe(want.provisional);
  }
}

function expectScope(
  actual: ScopeMetrics,
  query: Query,
  expectedOver: (days: readonly string[]) => OracleSet,
  where: string,
): void {
  const days = oracleDays(query.from, query.to);
  const previousDays = oracleDays(oraclePlusDays(query.from, -days.length), oraclePlusDays(query.from, -1));
  expectMetrics(actual.metrics, expectedOver(days), where);
  expectMetrics(actual.previous, expectedOver(previousDays), `${where} (previous period)`);
  for (const granularity of ['day', 'week', 'month'] as const) {
    const buckets = new Map<string, string[]>();
    for (const day of days) buckets.set(oracleBucket(day, granularity), [...(buckets.get(oracleBucket(day, granularity)) ?? []), day]);
    const series: SeriesPoint[] = actual.series[granularity];
    expect(series.map((p) => [p.bucket, p.from, p.to]), `${where} ${granularity} buckets`).toEqual(
      [...buckets].map(([bucket, list]) => [bucket, list[0], list[list.length - 1]]),
    );
    series.forEach((point) => expectMetrics(point.metrics, expectedOver(buckets.get(point.bucket)!), `${where} ${granularity} ${point.bucket}`));
  }
}

describe.each(SEEDS)('a generated world driven through the use cases (seed %i)', (seed) => {
  const world = generateWorld(seed, { customers: 120, surveys: 500, contracts: 0 });
  const contractWorld = generateContractWorld(seed, { customers: 60, contracts: 150 });
  const oracle = new Oracle(world);
  const outcomes = contractOracle(contractWorld);
  let fakes: UseCaseFakes;
  let log: DriveLog;
  let contractLog: ContractDriveLog;

  beforeAll(async () => {
    fakes = useCaseFakes();
    log = await driveSurveysAndPurchases(world, fakes, seed * 17 + 5);
    contractLog = await driveContracts(contractWorld, fakes);
  });

  it('went through the cases it is meant to', () => {
    const answered = world.surveys.filter((s) => s.clicks.length > 0).length;
    expect(log.sends).toEqual({ recorded: world.surveys.length, repeated: world.surveys.filter((s) => s.sentTwice).length });
    expect(log.sends.repeated).toBeGreaterThan(0);
    expect(log.clicks.recorded).toBe(answered);
    expect(log.clicks.changed).toBeGreaterThan(0);
    expect(log.clicks.unchanged).toBeGreaterThan(0);
    expect(log.clicks.closed).toBeGreaterThan(0);
    expect(new Set(world.purchases.map((p) => p.orderId)).size).toBeLessThan(world.purchases.length);
    expect(log.concurrentPurchaseGroups.length).toBeGreaterThan(0);
    // Deliveries of one customer at once raced: some purchase-history writes lost and were retried on a fresh read.
    expect(fakes.refusedPurchaseHistoryWrites()).toBeGreaterThan(0);

    const fates = contractWorld.contracts.flatMap((c) => c.fates);
    for (const fate of ['renewed', 'cancelled', 'ended', 'ended-then-renewed']) expect(fates).toContain(fate);
    expect(contractLog.ended).toBeGreaterThan(0);
    // Some churn the sweep recorded was replaced by a late renewal: fewer churned terms than churns recorded.
    const churnedTerms = [...fakes.contracts.items.values()].flatMap((c) => c.outcomes ?? []).filter((o) => o.result === 'CHURNED').length;
    expect(churnedTerms).toBeLessThan(contractLog.ended + (contractLog.actions['contract-cancelled'] ?? 0));
    expect(contractLog.actions['contract-renewed']).toBeGreaterThan(0);
    expect(contractLog.actions['contract-cancelled']).toBeGreaterThan(0);
    expect(contractLog.actions['stale-event']).toBeGreaterThan(0);
    expect([...fakes.contracts.items.values()].some((c) => isRunning(c.status))).toBe(true);
    expect(new Set(outcomes.map((o) => o.segment))).toEqual(new Set(['promoter', 'passive', 'detractor', 'none']));
  });

  it("keeps on each contract the outcome per term the recomputation finds (its day, result and the customer's segment then)", () => {
    const stored = [...fakes.contracts.items.values()].flatMap((c) =>
      (c.outcomes ?? []).map((o) => ({ contractId: c.contractId, endDate: o.endDate, day: new Date(o.at).toISOString().slice(0, 10), result: o.result, segment: o.npsSegment })),
    );
    const key = (o: OracleOutcome) => `${o.contractId} ${o.endDate}`;
    expect(stored.sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...outcomes].sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('leaves nothing pending and no marker', async () => {
    expect(await leftovers(fakes)).toEqual({
      pending: { touchpoints: [], responses: [], customers: [], contracts: [] },
      markers: [],
      aggregateMarkers: 0,
      responsesToSettle: [],
    });
  });

  it.each(QUERIES)('readMetrics(%o) gives the values and counts of the recomputation', async (query) => {
    const view: MetricsView = await readMetrics(query, { reader: new FakesMetricsReader(fakes), targets: TARGETS });
    const asOf = query.asOf ?? query.to;
    const { result } = view;
    expect(result.period).toEqual({ from: query.from, to: query.to, days: oracleDays(query.from, query.to).length });

    expectScope(result.overall, query, (days) => expectedSet(oracle, outcomes, days, { scope: 'overall', ...(query.campaignId !== undefined ? { campaignId: query.campaignId } : {}), asOf }), 'overall');

    const days = oracleDays(query.from, query.to);
    const previousDays = oracleDays(oraclePlusDays(query.from, -days.length), oraclePlusDays(query.from, -1));
    const campaignIds = query.campaignId !== undefined ? [query.campaignId] : oracle.campaignsWithData(new Set([...previousDays, ...days]));
    expect(Object.keys(result.campaigns).sort()).toEqual(campaignIds);
    for (const campaignId of campaignIds) {
      expectScope(result.campaigns[campaignId]!, query, (list) => expectedSet(oracle, outcomes, list, { scope: 'campaign', campaignId, asOf }), campaignId);
    }
    // The targets report shows the same figures (the campaign's rows for a campaign).
    const reported = expectedSet(oracle, outcomes, days, { scope: query.campaignId !== undefined ? 'campaign' : 'overall', ...(query.campaignId !== undefined ? { campaignId: query.campaignId } : {}), asOf });
    expect(view.report.map((row) => row.metric).sort()).toEqual(Object.keys(reported).sort());
    for (const row of view.report) {
      const want = reported[row.metric]!;
      expect(row.count, `report ${row.metric}: count`).toBe(want.count);
      if (want.value === undefined) expect(row.current, `report ${row.metric}`).toBeUndefined();
      else expect(row.current, `report ${row.metric}`).toBeCloseTo(want.value, 9);
    }
  });
});
