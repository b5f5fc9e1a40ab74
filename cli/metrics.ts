/**
 * `npm run outreach -- metrics [report] …` and `metrics rebuild`: the loyalty and retention metrics for operators.
 *
 *   metrics [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--days N] [--campaign <id>] [--json | --csv] [--series day|week|month]
 *           [--targets <file>] [--off-target-exit] [--table-metrics <t>] [--table-survey-aggregates <t>]
 *                        the targets report "metric | target | current | trend" over a range of UTC days
 *   metrics rebuild [--dry-run] [--json] [--table-metrics <t>] [--table-touchpoints <t>] [--table-responses <t>]
 *                   [--table-contracts <t>] [--table-customers <t>]
 *                        recompute the send, outcome and purchase records from the raw items; report and repair drift
 *
 * The range: `--to` (default today, UTC) and either `--from` or `--days` (default 90). The report reads only the
 * per-day records (core/metrics/read-metrics.ts), never the raw items. Table names default to METRICS_TABLE,
 * SURVEY_AGGREGATES_TABLE, TOUCHPOINTS_TABLE, RESPONSES_TABLE, CONTRACTS_TABLE and CUSTOMERS_TABLE.
 * Exit codes: 0 done; 1 an invalid targets file, `--off-target-exit` with a metric off target, or a rebuild that left
 * drift (a dry run that found some, or records skipped: run it again); 2 a bad option or an unreachable table.
 * See docs/metrics.md.
 */
import { Option, type Command } from 'commander';
import { DynamoDbMetricsCounters, DynamoDbMetricsReader } from '../adapters/dynamodb-metrics.ts';
import { DynamoDbMetricsSources } from '../adapters/dynamodb-metrics-sources.ts';
import { addCalendarDays, isCalendarDate } from '../core/contracts/renewal-offsets.ts';
import {
  CAMPAIGN_METRICS,
  GRANULARITIES,
  MAX_RANGE_DAYS,
  METRIC_IDS,
  type Granularity,
  type MetricId,
  type MetricsResult,
} from '../core/metrics/compute.ts';
import { daysBetween } from '../core/metrics/model.ts';
import { readMetrics, type MetricsView } from '../core/metrics/read-metrics.ts';
import { driftLine, driftRemains, rebuildMetricRecords, SEND_REBUILD_DAYS, type MetricsRebuildResult, type RebuiltRecord } from '../core/metrics/rebuild.ts';
import { formatValue, reportCsv, reportHeading, reportTable } from '../core/metrics/report.ts';
import { InvalidTargetsError, loadTargetsFile, type TargetsConfig } from '../core/metrics/targets.ts';
import type { CliHelpers } from './outreach.ts';

export const DEFAULT_TARGETS_FILE = 'metrics/targets.yaml';
export const DEFAULT_DAYS = 90;

/** Said after every rebuild: the answer counts behind NPS, CSAT and CES have their own rebuild. */
export const SURVEY_AGGREGATES_NOTE =
  'The survey answer aggregates (the NPS, CSAT and CES counts) are not part of this rebuild: `outreach surveys rebuild --campaign <id>` recomputes them per campaign.';

interface ReportOptions {
  from?: string;
  to?: string;
  days?: string;
  campaign?: string;
  json?: boolean;
  csv?: boolean;
  series?: Granularity;
  targets: string;
  offTargetExit?: boolean;
  tableMetrics: string;
  tableSurveyAggregates: string;
}

interface RebuildOptions {
  dryRun?: boolean;
  json?: boolean;
  tableMetrics: string;
  tableTouchpoints: string;
  tableResponses: string;
  tableContracts: string;
  tableCustomers: string;
}

/** Today as a UTC day. */

/**
 * The range the options name, or the one-line problem with it (naming the option). `--from` and `--days` exclude each
 * other; without either, the last DEFAULT_DAYS days up to `--to`.
 */
export function rangeOf(options: Pick<ReportOptions, 'from' | 'to' | 'days'>, today: string): { from: string; to: string } | { problem: string } {
  for (const [flag, value] of [['--from', options.from], ['--to', options.to]] as const) {
    if (value !== undefined && !isCalendarDate(value)) return { problem: `${flag} must be a calendar date YYYY-MM-DD, e.g. ${flag} 2026-03-01 (got ${value})` };
  }
  if (options.days !== undefined && options.from !== undefined) {
    return { problem: '--from and --days exclude each other: give the first day (--from) or the number of days up to --to (--days)' };
  }
  const to = options.to ?? today;
  let from: string;
  if (options.from !== undefined) {
    from = options.from;
  } else {
    const days = options.days ?? String(DEFAULT_DAYS);
    if (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > MAX_RANGE_DAYS) {
      return { problem: `--days must be a whole number from 1 to ${MAX_RANGE_DAYS}, e.g. --days 30 (got ${days})` };
    }
    from = addCalendarDays(to, 1 - Number(days));
  }
  const days = daysBetween(from, to) + 1;
  if (days < 1) return { problem: `--from ${from} is after --to ${to}` };
  if (days > MAX_RANGE_DAYS) return { problem: `--from ${from} to --to ${to} is ${days} days; at most ${MAX_RANGE_DAYS}` };
  return { from, to };
}

/** One series of the view as a table: the bucket, then one column per metric of the scope (ids as headings). */
export function seriesTable(result: MetricsResult, granularity: Granularity, campaignId?: string): string[] {
  const scope = campaignId === undefined ? result.overall : result.campaigns[campaignId];
  const metrics: readonly MetricId[] = campaignId === undefined ? METRIC_IDS : CAMPAIGN_METRICS;
  const points = scope?.series[granularity] ?? [];
  const rows = points.map((point) => [point.bucket, ...metrics.map((id) => formatValue(id, point.metrics[id]?.value))]);
  const headings = ['bucket', ...metrics];
  const widths = headings.map((heading, i) => Math.max(heading.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ').trimEnd();
  return [line(headings), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)];
}

/** The text report: heading, table, and (with a granularity) the series. */
export function reportText(view: MetricsView, campaignId: string | undefined, series: Granularity | undefined): string[] {
  const options = campaignId === undefined ? {} : { campaignId };
  const lines = [reportHeading(view.result, options), '', ...reportTable(view.report)];
  if (series) lines.push('', `per ${series}:`, ...seriesTable(view.result, series, campaignId));
  return lines;
}

const STATUS_WORDS: Readonly<Record<RebuiltRecord['status'], string>> = {
  repaired: 'repaired',
  drift: 'drift',
  'in-flight': 'skipped',
  changed: 'skipped',
};

/** The rebuild's report as text lines (the last line is the summary). */
export function rebuildText(result: MetricsRebuildResult): string[] {
  const lines: string[] = [];
  const entities = (n: number) => `${n} entit${n === 1 ? 'y' : 'ies'}`;
  if (result.dryRun) {
    lines.push(`dry run: nothing is written; ${result.unsettled > 0 ? `${entities(result.unsettled)} with pending counts not settled` : 'no pending counts'}`);
  } else if (result.settled > 0 || result.unsettled > 0) {
    lines.push(
      `settled the pending counts of ${entities(result.settled)} first` + (result.unsettled > 0 ? `; ${entities(result.unsettled)} being settled by another writer` : ''),
    );
  } else {
    lines.push('no pending counts to settle');
  }
  for (const record of result.records) {
    const word = STATUS_WORDS[record.status].padEnd(9);
    lines.push(`${word}${driftLine(record)}${record.reason ? ` (${record.reason})` : ''}`);
  }
  if (result.keptBeyondRetention.length > 0) {
    lines.push(
      `kept     ${result.keptBeyondRetention.length} send record(s) before ${result.retentionCutoff}: beyond retention, kept as stored ` +
        `(touchpoints expire 400 days after they end; send records older than ${SEND_REBUILD_DAYS} days are not rebuilt)`,
    );
  }
  const { sends, answers, outcomes, customers } = result.read;
  lines.push(
    `${result.compared} record(s) compared, from ${sends} sent survey(s), ${answers} answer(s), ${outcomes} contract outcome(s), ` +
      `${customers} customer(s) with purchases: ` +
      (result.dryRun ? `${result.drift} with drift` : `${result.repaired} repaired (drift)`) +
      `, ${result.unchanged} unchanged, ${result.skipped} skipped`,
  );
  lines.push(SURVEY_AGGREGATES_NOTE);
  return lines;
}

export function registerMetricsCommands(program: Command, helpers: CliHelpers): void {
  const { UsageError, ReportedFailure, withTable, openDocumentClient, print, printJson, tableOption, currentTime } = helpers;

  const loadTargets = (file: string): TargetsConfig => {
    try {
      return loadTargetsFile(file);
    } catch (error) {
      if (!(error instanceof InvalidTargetsError)) throw error;
      for (const problem of error.problems) process.stderr.write(`${problem}\n`);
      throw new ReportedFailure(`the targets file has ${error.problems.length} problem(s); fix it or pass --targets <file>`);
    }
  };

  const metrics = program
    .command('metrics')
    .description('loyalty and retention metrics: the targets report (the default) and rebuilding the per-day records');

  metrics
    .command('report', { isDefault: true })
    .description('(default) "metric | target | current | trend" over a range of UTC days, from the per-day records')
    .option('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .option('--to <date>', 'last day, YYYY-MM-DD (UTC), included (default: today)')
    .option('--days <n>', `the number of days up to --to, when --from is absent (default: ${DEFAULT_DAYS})`)
    .option('--campaign <id>', "one survey campaign's metrics (NPS, CSAT, CES, response rate) with its targets")
    .addOption(new Option('--series <granularity>', 'also print the metrics per day, ISO week or month').choices(GRANULARITIES))
    .option('--targets <file>', 'the targets file', DEFAULT_TARGETS_FILE)
    .option('--off-target-exit', 'exit 1 when a metric with a target is off target (for a scheduled check)')
    .addOption(tableOption('--table-metrics <name>', 'metrics table, e.g. outreach-metrics', 'METRICS_TABLE'))
    .addOption(tableOption('--table-survey-aggregates <name>', 'survey aggregates table, e.g. outreach-surveyAggregates', 'SURVEY_AGGREGATES_TABLE'))
    .option('--json', 'machine-readable output: the whole view (every metric, trend and series) and the report rows')
    .addOption(new Option('--csv', 'the report rows as CSV').conflicts('json'))
    .action(async (options: ReportOptions) => {
      const today = (await currentTime()).slice(0, 10);
      const range = rangeOf(options, today);
      if ('problem' in range) throw new UsageError(range.problem);
      const campaignId = options.campaign;
      if (campaignId !== undefined && !campaignId.trim()) throw new UsageError('--campaign must name a survey campaign, e.g. --campaign nps-after-purchase');
      if (options.csv && options.series) throw new UsageError('--series adds a table to the text output; --csv has the report rows only (--json has every series)');
      const targets = loadTargets(options.targets);
      const tables = `${options.tableMetrics} or ${options.tableSurveyAggregates}`;
      const reader = new DynamoDbMetricsReader(options.tableMetrics, options.tableSurveyAggregates, openDocumentClient());
      const view = await withTable(tables, () =>
        readMetrics({ ...range, asOf: today, ...(campaignId !== undefined ? { campaignId } : {}) }, { reader, targets }),
      );

      if (options.json) printJson(view);
      else if (options.csv) for (const line of reportCsv(view.report)) print(line);
      else for (const line of reportText(view, campaignId, options.series)) print(line);

      const off = view.report.filter((row) => row.status === 'off-target');
      if (options.offTargetExit && off.length > 0) {
        throw new ReportedFailure(`${off.length} metric(s) off target: ${off.map((row) => row.metric).join(', ')}`);
      }
    });

  metrics
    .command('rebuild')
    .description(
      'recompute the survey send, contract outcome and purchase records from the raw items, report the drift, and repair it ' +
        '(safe while traffic runs: a record that changes meanwhile is skipped; run again)',
    )
    .option('--dry-run', 'report the drift only: settle nothing, write nothing')
    .addOption(tableOption('--table-metrics <name>', 'metrics table, e.g. outreach-metrics', 'METRICS_TABLE'))
    .addOption(tableOption('--table-touchpoints <name>', 'touchpoints table (survey sends), e.g. outreach-touchpoints', 'TOUCHPOINTS_TABLE'))
    .addOption(tableOption('--table-responses <name>', 'responses table (answers), e.g. outreach-responses', 'RESPONSES_TABLE'))
    .addOption(tableOption('--table-contracts <name>', 'contracts table (outcomes), e.g. outreach-contracts', 'CONTRACTS_TABLE'))
    .addOption(tableOption('--table-customers <name>', 'customers table (purchases), e.g. outreach-customers', 'CUSTOMERS_TABLE'))
    .option('--json', 'machine-readable output')
    .action(async (options: RebuildOptions) => {
      const db = openDocumentClient();
      const entityTables = {
        touchpoints: options.tableTouchpoints,
        responses: options.tableResponses,
        contracts: options.tableContracts,
        customers: options.tableCustomers,
      };
      const sources = new DynamoDbMetricsSources(entityTables, db);
      const records = new DynamoDbMetricsCounters(options.tableMetrics, db);
      const tables = [options.tableMetrics, ...Object.values(entityTables)].join(', ');
      const now = await currentTime();
      const result = await withTable(tables, () =>
        rebuildMetricRecords(
          { now, dryRun: options.dryRun === true },
          { sources, records, counters: records, pending: (table) => sources.pending(table) },
        ),
      );

      if (options.json) {
        printJson({
          tables: { metrics: options.tableMetrics, ...entityTables },
          ...result,
          records: result.records.map((record) => ({ ...record, text: driftLine(record) })),
          driftRemains: driftRemains(result),
          note: SURVEY_AGGREGATES_NOTE,
        });
      } else {
        for (const line of rebuildText(result)) print(line);
      }
      if (result.dryRun && driftRemains(result)) {
        throw new ReportedFailure(
          `dry run: ${result.drift} record(s) with drift, ${result.skipped} with pending counts not settled; nothing written — run without --dry-run to repair`,
        );
      }
      if (result.skipped > 0) throw new ReportedFailure(`${result.skipped} record(s) skipped (in flight or changed meanwhile): run the rebuild again to finish them`);
    });
}
