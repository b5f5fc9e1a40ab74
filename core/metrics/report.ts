/**
 * The targets report, "metric | target | current | trend": one row per metric with its target, whether it is met,
 * and how it moved against the previous period — as data (for `--json` and the API), as aligned text lines (the
 * CLI's table) and as CSV lines (`--csv`). Rounding happens here and only here: to each metric's `decimals`.
 */
import { CAMPAIGN_METRICS, METRICS, METRIC_IDS, type MetricDefinition, type MetricId, type MetricsResult, type ScopeMetrics } from './compute.ts';
import { meetsTarget, targetFor, type ResolvedTarget, type TargetsConfig } from './targets.ts';

export type TargetStatus = 'on-target' | 'off-target' | 'no-data' | 'no-target';

export interface ReportRow {
  metric: MetricId;
  label: string;
  unit: MetricDefinition['unit'];
  target?: ResolvedTarget;
  /** The exact value (undefined: nothing to measure in the period). */
  current: number | undefined;
  /** What it was measured over (responses, surveys sent, terms ended, first-time customers). */
  count: number;
  /** The value may still rise (repeat windows not over yet). */
  provisional: boolean;
  previous: number | undefined;
  difference: number | undefined;
  /** Of the difference as shown: `flat` when it rounds to 0 at the metric's decimals. */
  direction: 'up' | 'down' | 'flat' | undefined;
  /** Up or down judged by the target's comparator (≥: up is better), or by the metric's nature without a target. */
  movement: 'better' | 'worse' | 'unchanged' | undefined;
  status: TargetStatus;
  /** `status === 'on-target'`; undefined without a target or a value. */
  onTarget: boolean | undefined;
}

export interface ReportOptions {
  /** The rows of this campaign (its survey metrics, with its target overrides); otherwise every metric overall. */
  campaignId?: string;
}

/**
 * Rounds half away from zero to `decimals` as the decimal text reads (1.005 → 1.01, which plain `Math.round(x * 100)`
 * gets wrong), without producing −0.
 */
export function roundTo(value: number, decimals: number): number {
  const magnitude = Math.abs(value);
  const text = String(magnitude);
  const rounded = text.includes('e')
    ? Math.round(magnitude * 10 ** decimals) / 10 ** decimals
    : Number(`${Math.round(Number(`${text}e${decimals}`))}e-${decimals}`);
  return rounded === 0 ? 0 : Math.sign(value) * rounded;
}

export function buildReport(result: MetricsResult, config: Pick<TargetsConfig, 'targets'>, options: ReportOptions = {}): ReportRow[] {
  const { campaignId } = options;
  const scope: ScopeMetrics | undefined = campaignId === undefined ? result.overall : result.campaigns[campaignId];
  const ids: readonly MetricId[] = campaignId === undefined ? METRIC_IDS : CAMPAIGN_METRICS;
  return ids.map((id) => {
    const definition = METRICS[id];
    const value = scope?.metrics[id];
    const trend = scope?.trend[id];
    const target = targetFor(config, id, campaignId);
    const current = value?.value;
    const difference = trend?.difference;
    const shown = difference === undefined ? undefined : roundTo(difference, definition.decimals);
    const direction = shown === undefined ? undefined : shown > 0 ? 'up' : shown < 0 ? 'down' : 'flat';
    const higherIsBetter = target ? target.comparator === '>=' : definition.higherIsBetter;
    const movement =
      direction === undefined ? undefined : direction === 'flat' ? 'unchanged' : (direction === 'up') === higherIsBetter ? 'better' : 'worse';
    const onTarget = target ? meetsTarget(current, target) : undefined;
    const status: TargetStatus = !target ? 'no-target' : onTarget === undefined ? 'no-data' : onTarget ? 'on-target' : 'off-target';
    return {
      metric: id,
      label: definition.label,
      unit: definition.unit,
      ...(target ? { target } : {}),
      current,
      count: value?.count ?? 0,
      provisional: value?.provisional === true,
      previous: trend?.previous,
      difference,
      direction,
      movement,
      status,
      onTarget,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Text

/** `42.0`, `-12.5` (NPS), `83.3 %`, `5.12` (CES); `undefined` → `no data`. */
export function formatValue(metric: MetricId, value: number | undefined): string {
  if (value === undefined) return 'no data';
  const { decimals, unit } = METRICS[metric];
  const text = roundTo(value, decimals).toFixed(decimals);
  return unit === 'percent' ? `${text} %` : text;
}

export function formatTarget(metric: MetricId, target: ResolvedTarget | undefined): string {
  if (!target) return '–';
  const unit = METRICS[metric].unit === 'percent' ? ' %' : '';
  return `${target.comparator === '>=' ? '≥' : '≤'} ${target.value}${unit}${target.source === 'campaign' ? ' (campaign)' : ''}`;
}

const ARROWS = { up: '↑', down: '↓', flat: '→' } as const;

/** `↑ +3.2 from 38.8`, `→ 0.0 from 38.8`, `was 38.8` (no current value), `–` (no previous value). */
export function formatTrend(row: Pick<ReportRow, 'metric' | 'previous' | 'difference' | 'direction'>): string {
  const { decimals } = METRICS[row.metric];
  if (row.previous === undefined) return '–';
  const before = roundTo(row.previous, decimals).toFixed(decimals);
  if (row.direction === undefined || row.difference === undefined) return `was ${before}`;
  const shown = roundTo(row.difference, decimals);
  return `${ARROWS[row.direction]} ${shown > 0 ? '+' : ''}${shown.toFixed(decimals)} from ${before}`;
}

/** How the table (and the dashboard, through the API's `table`) writes a status. */
export const STATUS_TEXT: Readonly<Record<TargetStatus, string>> = {
  'on-target': 'on target',
  'off-target': 'OFF TARGET',
  'no-data': 'no data',
  'no-target': '',
};

export const TABLE_HEADINGS = ['Metric', 'Target', 'Current', 'n', 'Trend', 'Status'] as const;

/**
 * The report as text lines: a heading row, a rule, one row per metric, columns separated by ` | `, trailing spaces
 * trimmed; `*` marks a provisional value, explained in a last line.
 */
export function reportTable(rows: readonly ReportRow[]): string[] {
  const cells = rows.map((row) => [
    row.label,
    formatTarget(row.metric, row.target),
    `${formatValue(row.metric, row.current)}${row.provisional && row.current !== undefined ? '*' : ''}`,
    String(row.count),
    formatTrend(row),
    STATUS_TEXT[row.status],
  ]);
  const widths = TABLE_HEADINGS.map((heading, i) => Math.max(heading.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  const lines = [line(TABLE_HEADINGS), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
  if (rows.some((row) => row.provisional && row.current !== undefined)) {
    lines.push('* provisional: some customers can still make a second purchase within the repeat window');
  }
  return lines;
}

/** `2026-01-01 – 2026-03-31 (90 days), trend against 2025-10-03 – 2025-12-31` (and the campaign, if any). */
export function reportHeading(result: MetricsResult, options: ReportOptions = {}): string {
  const { period, previousPeriod } = result;
  const scope = options.campaignId === undefined ? 'all campaigns' : `campaign ${options.campaignId}`;
  return `${scope}, ${period.from} – ${period.to} (${period.days} day${period.days === 1 ? '' : 's'}), trend against ${previousPeriod.from} – ${previousPeriod.to}`;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

export const CSV_HEADER = [
  'metric',
  'label',
  'target_comparator',
  'target_value',
  'target_source',
  'current',
  'count',
  'provisional',
  'previous',
  'difference',
  'direction',
  'movement',
  'status',
] as const;

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The report as CSV lines (header first); numbers rounded to each metric's decimals, empty when there is none. */
export function reportCsv(rows: readonly ReportRow[]): string[] {
  const number = (metric: MetricId, value: number | undefined) =>
    value === undefined ? '' : roundTo(value, METRICS[metric].decimals).toFixed(METRICS[metric].decimals);
  return [
    CSV_HEADER.join(','),
    ...rows.map((row) =>
      [
        row.metric,
        row.label,
        row.target?.comparator ?? '',
        row.target === undefined ? '' : String(row.target.value),
        row.target?.source ?? '',
        number(row.metric, row.current),
        String(row.count),
        String(row.provisional),
        number(row.metric, row.previous),
        number(row.metric, row.difference),
        row.direction ?? '',
        row.movement ?? '',
        row.status,
      ]
        .map(csvField)
        .join(','),
    ),
  ];
}
