/**
 * The metrics view every interface shows (the CLI's `outreach metrics`, the JSON API, the dashboard): the per-day
 * records of the range and of the previous period of the same length, computed (compute.ts) and turned into the
 * targets report (report.ts). It reads only the records, never responses, contracts or customers, so its cost
 * depends on the number of days and survey campaigns, not on history: per survey campaign one Query of its send
 * records and one of its answer records, one Query of the outcome records, one of the purchase cohorts, and one
 * for the list of survey campaigns (bench/metrics.ts counts them).
 */
import { addCalendarDays } from '../contracts/renewal-offsets.ts';
import type { SurveyAggregate } from '../surveys/responses.ts';
import { computeMetrics, type MetricsQuery, type MetricsResult } from './compute.ts';
import type { ContractOutcomeAggregate, PurchaseCohortAggregate, SurveySendAggregate } from './model.ts';
import { buildReport, type ReportRow } from './report.ts';
import type { TargetsConfig } from './targets.ts';

/** The records, read by day range (inclusive, UTC days YYYY-MM-DD). */
export interface MetricsReader {
  /** Every campaign that has survey records (sends or answers), sorted. */
  surveyCampaigns(): Promise<string[]>;
  surveyAnswers(campaignId: string, from: string, to: string): Promise<SurveyAggregate[]>;
  surveySends(campaignId: string, from: string, to: string): Promise<SurveySendAggregate[]>;
  contractOutcomes(from: string, to: string): Promise<ContractOutcomeAggregate[]>;
  purchaseCohorts(from: string, to: string): Promise<PurchaseCohortAggregate[]>;
}

export interface MetricsView {
  result: MetricsResult;
  /** The targets report of the overall view, or of `campaignId`'s when the query names one. */
  report: ReportRow[];
}

/**
 * Reads the records of `query.from − (days) … query.to` and computes the view. With `campaignId`, reads only that
 * campaign's survey records (and still the outcome and purchase records, which have no campaign, for `overall`).
 * Throws InvalidInputError for a bad range (compute.ts checks it before anything is read).
 */
export async function readMetrics(
  query: Omit<MetricsQuery, 'repeatWindowDays'>,
  deps: { reader: MetricsReader; targets: TargetsConfig },
): Promise<MetricsView> {
  // Validates the query (and gives the previous period) before any request is made.
  const empty = computeMetrics({ surveys: [], sends: [], outcomes: [], purchases: [] }, { ...query, repeatWindowDays: deps.targets.repeatPurchaseWindowDays });
  const from = addCalendarDays(empty.period.from, -empty.period.days);
  const to = empty.period.to;
  const campaigns = query.campaignId !== undefined ? [query.campaignId] : await deps.reader.surveyCampaigns();
  const [perCampaign, outcomes, purchases] = await Promise.all([
    Promise.all(campaigns.map(async (id) => Promise.all([deps.reader.surveyAnswers(id, from, to), deps.reader.surveySends(id, from, to)]))),
    deps.reader.contractOutcomes(from, to),
    deps.reader.purchaseCohorts(from, to),
  ]);
  const result = computeMetrics(
    { surveys: perCampaign.flatMap(([answers]) => answers), sends: perCampaign.flatMap(([, sends]) => sends), outcomes, purchases },
    { ...query, repeatWindowDays: deps.targets.repeatPurchaseWindowDays },
  );
  const report = buildReport(result, deps.targets, query.campaignId !== undefined ? { campaignId: query.campaignId } : {});
  return { result, report };
}
