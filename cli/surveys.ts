/**
 * `npm run outreach -- surveys <command>`: a survey campaign's answers and results.
 *
 *   surveys responses --campaign <id> [--table-responses <t>] [--limit N] [--comments] [--json]
 *                     the campaign's answers, newest first (the comments themselves only with --comments)
 *   surveys summary --campaign <id> [--table-aggregates <t>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
 *                     responses and NPS / % CSAT satisfied / mean CES per day (UTC day of the first answer) and in total
 *   surveys rebuild --campaign <id> [--table-responses <t>] [--table-aggregates <t>] [--event-bus <name>] [--json]
 *                     recompute the campaign's aggregates from its responses and report the drift it repaired
 *
 * Table names default to RESPONSES_TABLE and SURVEY_AGGREGATES_TABLE, the bus to EVENT_BUS_NAME.
 * Exit codes: 0 done, 1 the rebuild had to skip aggregates (run it again), 2 a bad option or an unreachable table.
 */
import { type Command, Option } from 'commander';
import { DynamoDbSurveyAggregates, DynamoDbSurveyResponses } from '../adapters/dynamodb-responses.ts';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.ts';
import { DynamoDbMetricsCounters } from '../adapters/dynamodb-metrics.ts';
import { DynamoDbPendingCounts } from '../adapters/dynamodb-pending.ts';
import { isCalendarDate } from '../core/contracts/renewal-offsets.ts';
import type { EventPublisher, InflightMarker, StoredAggregate, SurveyAggregateRepository, SurveyResponseRepository } from '../core/surveys/ports.ts';
import { rebuildCampaignAggregates } from '../core/surveys/rebuild-aggregates.ts';
import {
  type AggregateDelta,
  type AggregateKey,
  type SettlementLease,
  type SurveyAggregate,
  type SurveyResponse,
  aggregateKeyOf,
  surveyMetric,
} from '../core/surveys/responses.ts';
import { SURVEY_KINDS, type SurveyKind, categoriesOf } from '../core/surveys/scales.ts';
import { needsSettlement } from '../core/surveys/settle-response.ts';
import type { CliHelpers } from './outreach.ts';

export const DEFAULT_RESPONSE_LIMIT = 50;

/** How each kind's headline number is named and shown. */
export const METRICS: Readonly<Record<SurveyKind, { label: string; description: string; format: (value: number) => string }>> = {
  nps: { label: 'NPS', description: 'NPS (% promoters − % detractors)', format: (v) => v.toFixed(1) },
  csat: { label: 'CSAT', description: 'CSAT (% satisfied)', format: (v) => `${v.toFixed(1)}%` },
  ces: { label: 'CES', description: 'CES (mean score, 1–7)', format: (v) => v.toFixed(2) },
};

const formatValue = (kind: SurveyKind, value: number | undefined) => (value === undefined ? '–' : METRICS[kind].format(value));

interface CampaignOption {
  campaign: string;
  json?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// summary

export interface SummaryRow {
  day: string;
  responses: number;
  value: number | undefined;
  categories: Record<string, number>;
}

export interface KindSummary {
  kind: SurveyKind;
  metric: string;
  days: SummaryRow[];
  total: Omit<SummaryRow, 'day'>;
}

/** Per kind the campaign has answers of: one row per stored day in [from, to], and the total over them. */
export function summarize(aggregates: readonly SurveyAggregate[], range: { from?: string; to?: string }): KindSummary[] {
  const inRange = aggregates.filter((a) => (range.from === undefined || a.day >= range.from) && (range.to === undefined || a.day <= range.to));
  return SURVEY_KINDS.filter((kind) => inRange.some((a) => a.kind === kind)).map((kind) => {
    const mine = inRange.filter((a) => a.kind === kind).sort((a, b) => a.day.localeCompare(b.day));
    const days = mine.map((a) => {
      const { responses, value, categories } = surveyMetric(kind, [a]);
      return { day: a.day, responses, value, categories };
    });
    const { responses, value, categories } = surveyMetric(kind, mine);
    return { kind, metric: METRICS[kind].description, days, total: { responses, value, categories } };
  });
}

export function formatSummary(campaignId: string, summaries: readonly KindSummary[], range: { from?: string; to?: string }): string[] {
  const span = range.from !== undefined || range.to !== undefined ? ` from ${range.from ?? 'the first day'} to ${range.to ?? 'the last day'}` : '';
  if (summaries.length === 0) return [`no survey answers for campaign ${campaignId}${span}`];
  const lines: string[] = [];
  for (const summary of summaries) {
    const categories = categoriesOf(summary.kind);
    const label = METRICS[summary.kind].label;
    const heads = ['responses', label, ...categories.map((c) => (summary.kind === 'ces' ? `score ${c}` : c))];
    const rows = [
      ...summary.days.map((d) => [d.day, d.responses, formatValue(summary.kind, d.value), ...categories.map((c) => d.categories[c] ?? 0)]),
      ['total', summary.total.responses, formatValue(summary.kind, summary.total.value), ...categories.map((c) => summary.total.categories[c] ?? 0)],
    ];
    const widths = heads.map((head, i) => Math.max(head.length, ...rows.map((row) => String(row[i + 1]).length)));
    const line = (first: string, cells: ReadonlyArray<string | number>) =>
      `${first.padEnd(10)}  ${cells.map((cell, i) => String(cell).padStart(widths[i] ?? 0)).join('  ')}`;
    if (lines.length > 0) lines.push('');
    lines.push(`${campaignId}: ${summary.metric}${span}, per UTC day of the first answer`);
    lines.push(line('day', heads));
    for (const row of rows) lines.push(line(String(row[0]), row.slice(1)));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// rebuild

export interface AggregateChange {
  field: string;
  before: number;
  after: number;
}

export interface RebuiltAggregate {
  day: string;
  kind: SurveyKind;
  /** repaired: the stored counts had drifted and were overwritten; skipped: left alone this time (see reason). */
  status: 'repaired' | 'unchanged' | 'skipped';
  changes: AggregateChange[];
  reason?: string;
}

const flatCounts = (a: SurveyAggregate | undefined): Record<string, number> => ({
  responses: a?.responses ?? 0,
  scoreSum: a?.scoreSum ?? 0,
  ...Object.fromEntries(Object.entries(a?.scores ?? {}).map(([score, n]) => [`score ${score}`, n])),
  ...Object.fromEntries(Object.entries(a?.categories ?? {}).map(([category, n]) => [`category ${category}`, n])),
});

const fieldOrder = (field: string): [number, number, string] => {
  if (field === 'responses') return [0, 0, ''];
  if (field === 'scoreSum') return [1, 0, ''];
  if (field.startsWith('score ')) return [2, Number(field.slice(6)), ''];
  return [3, 0, field];
};

/** The counts that differ between two states of one aggregate (absent counts are zero). */
export function aggregateChanges(before: SurveyAggregate | undefined, after: SurveyAggregate | undefined): AggregateChange[] {
  const b = flatCounts(before);
  const a = flatCounts(after);
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((field) => (b[field] ?? 0) !== (a[field] ?? 0))
    .sort((x, y) => {
      const [gx, nx, sx] = fieldOrder(x);
      const [gy, ny, sy] = fieldOrder(y);
      return gx - gy || nx - ny || sx.localeCompare(sy);
    })
    .map((field) => ({ field, before: b[field] ?? 0, after: a[field] ?? 0 }));
}

const keyId = (key: Pick<AggregateKey, 'day' | 'kind'>) => `${key.day} ${key.kind}`;

/**
 * The responses repository as the rebuild sees it: remembers the responses it listed last (to say why a day was
 * skipped), and without an event bus never takes a settlement lease, so nothing is settled without its event.
 */
class ObservedResponses implements SurveyResponseRepository {
  listed: SurveyResponse[] = [];

  constructor(
    private readonly inner: SurveyResponseRepository,
    private readonly settle: boolean,
  ) {}

  get(surveyId: string) {
    return this.inner.get(surveyId);
  }
  put(response: SurveyResponse, expectedRevision: number | undefined) {
    return this.inner.put(response, expectedRevision);
  }
  acquireSettlement(surveyId: string, lease: SettlementLease, now: string) {
    return this.settle ? this.inner.acquireSettlement(surveyId, lease, now) : Promise.resolve(undefined);
  }
  commitSettlement(surveyId: string, token: string, revision: number) {
    return this.inner.commitSettlement(surveyId, token, revision);
  }
  listPendingSettlement(answeredBefore: string, limit: number) {
    return this.inner.listPendingSettlement(answeredBefore, limit);
  }
  async listByCampaign(campaignId: string) {
    this.listed = await this.inner.listByCampaign(campaignId);
    return this.listed;
  }
}

/** The aggregates repository as the rebuild sees it: remembers what the rebuild read as stored (after settling). */
class ObservedAggregates implements SurveyAggregateRepository {
  listed: StoredAggregate[] = [];

  constructor(private readonly inner: SurveyAggregateRepository) {}

  get(key: AggregateKey) {
    return this.inner.get(key);
  }
  inflightRevision(key: AggregateKey, surveyId: string) {
    return this.inner.inflightRevision(key, surveyId);
  }
  apply(key: AggregateKey, delta: AggregateDelta, marker: InflightMarker) {
    return this.inner.apply(key, delta, marker);
  }
  clearInflight(key: AggregateKey, surveyId: string, revision: number) {
    return this.inner.clearInflight(key, surveyId, revision);
  }
  async listByCampaign(campaignId: string) {
    this.listed = await this.inner.listByCampaign(campaignId);
    return this.listed;
  }
  replace(aggregate: SurveyAggregate, expectedVersion: number | undefined) {
    return this.inner.replace(aggregate, expectedVersion);
  }
}

const formatChanges = (changes: readonly AggregateChange[]) => changes.map((c) => `${c.field} ${c.before} → ${c.after}`).join(', ');

function rebuildLine(a: RebuiltAggregate): string {
  const where = `${a.day} ${a.kind}`;
  switch (a.status) {
    case 'repaired':
      return `repaired   ${where}: ${formatChanges(a.changes)}`;
    case 'unchanged':
      return `unchanged  ${where}`;
    case 'skipped':
      return `skipped    ${where}: ${a.reason ?? ''}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------

export function registerSurveyCommands(program: Command, helpers: CliHelpers): void {
  const { UsageError, ReportedFailure, withTable, openDocumentClient, print, printJson, tableOption } = helpers;

  /** EventBridge on `bus`; a failure is one line naming the bus (not the tables, as withTable would). */
  const busPublisher = (bus: string): EventPublisher => {
    const publisher = new EventBridgePublisher(bus);
    const where = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? process.env.AWS_ENDPOINT_URL ?? `EventBridge in ${process.env.AWS_REGION ?? '(no region set)'}`;
    return {
      publish: async (detailType, detail) => {
        try {
          await publisher.publish(detailType, detail);
        } catch (error) {
          const e = error as Error;
          throw new UsageError(`cannot publish ${detailType} on the event bus ${bus} at ${where}: ${e.name}: ${e.message}`);
        }
      },
    };
  };

  const checkCampaign = (campaign: string) => {
    if (!campaign.trim()) throw new UsageError('--campaign must name a survey campaign, e.g. --campaign nps-after-delivery');
  };

  const surveys = program.command('surveys').description("a survey campaign's answers, results per day, and rebuilding its aggregates");

  surveys
    .command('responses')
    .description("list a campaign's answers, newest first: when, score, category, revision, whether there is a comment, survey id")
    .requiredOption('--campaign <id>', 'the survey campaign id')
    .addOption(tableOption('--table-responses <name>', 'responses table, e.g. outreach-responses', 'RESPONSES_TABLE'))
    .option('--limit <n>', 'at most this many answers (newest first)', String(DEFAULT_RESPONSE_LIMIT))
    .option('--comments', "also print the comments (free text customers wrote: may hold personal data)")
    .option('--json', 'machine-readable output')
    .action(async (options: CampaignOption & { tableResponses: string; limit: string; comments?: boolean }) => {
      checkCampaign(options.campaign);
      const limit = Number(options.limit);
      if (!/^\d+$/.test(options.limit) || limit < 1) throw new UsageError(`--limit must be a whole number of at least 1, e.g. --limit 20 (got ${options.limit})`);
      const table = options.tableResponses;
      const all = await withTable(table, () => new DynamoDbSurveyResponses(table, openDocumentClient()).listByCampaign(options.campaign));
      all.sort((a, b) => b.answeredAt.localeCompare(a.answeredAt) || a.surveyId.localeCompare(b.surveyId));
      const shown = all.slice(0, limit).map((r) => ({
        surveyId: r.surveyId,
        kind: r.kind,
        answeredAt: r.answeredAt,
        firstAnsweredAt: r.firstAnsweredAt,
        score: r.score,
        category: r.category,
        revision: r.revision,
        hasComment: r.comment !== undefined,
        ...(options.comments && r.comment !== undefined ? { comment: r.comment } : {}),
        settled: !needsSettlement(r),
      }));
      if (options.json) {
        printJson({ campaignId: options.campaign, table, total: all.length, shown: shown.length, responses: shown });
        return;
      }
      if (all.length === 0) {
        print(`no answers for campaign ${options.campaign} in ${table}`);
        return;
      }
      const width = (values: ReadonlyArray<string | number>, head: string) => Math.max(head.length, ...values.map((v) => String(v).length));
      const w = {
        score: width(shown.map((r) => r.score), 'score'),
        category: width(shown.map((r) => r.category), 'category'),
        revision: width(shown.map((r) => r.revision), 'revision'),
      };
      const row = (answeredAt: string, kind: string, score: string | number, category: string, revision: string | number, comment: string, survey: string) =>
        `${answeredAt.padEnd(24)}  ${kind.padEnd(4)}  ${String(score).padStart(w.score)}  ${category.padEnd(w.category)}  ${String(revision).padStart(w.revision)}  ${comment.padEnd(7)}  ${survey}`;
      print(row('answeredAt', 'kind', 'score', 'category', 'revision', 'comment', 'survey'));
      for (const r of shown) {
        print(row(r.answeredAt, r.kind, r.score, r.category, r.revision, r.hasComment ? 'yes' : 'no', r.surveyId));
        if (r.comment !== undefined) print(`    ${r.comment.replace(/\n/g, '\n    ')}`);
      }
      print(
        shown.length < all.length
          ? `${shown.length} of ${all.length} answer(s) of campaign ${options.campaign}, newest first (--limit ${all.length} shows all)`
          : `${all.length} answer(s) of campaign ${options.campaign}, newest first`,
      );
    });

  surveys
    .command('summary')
    .description("responses and the campaign's metric (NPS, % CSAT satisfied, mean CES) per UTC day of the first answer, and in total")
    .requiredOption('--campaign <id>', 'the survey campaign id')
    .addOption(tableOption('--table-aggregates <name>', 'survey aggregates table, e.g. outreach-surveyAggregates', 'SURVEY_AGGREGATES_TABLE'))
    .option('--from <date>', 'first day, YYYY-MM-DD (UTC)')
    .option('--to <date>', 'last day, YYYY-MM-DD (UTC), included')
    .option('--json', 'machine-readable output')
    .action(async (options: CampaignOption & { tableAggregates: string; from?: string; to?: string }) => {
      checkCampaign(options.campaign);
      for (const [flag, value] of [['--from', options.from], ['--to', options.to]] as const) {
        if (value !== undefined && !isCalendarDate(value)) throw new UsageError(`${flag} must be a calendar date YYYY-MM-DD, e.g. ${flag} 2026-11-01 (got ${value})`);
      }
      if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
        throw new UsageError(`--from ${options.from} is after --to ${options.to}`);
      }
      const range = { ...(options.from !== undefined ? { from: options.from } : {}), ...(options.to !== undefined ? { to: options.to } : {}) };
      const table = options.tableAggregates;
      const aggregates = await withTable(table, () => new DynamoDbSurveyAggregates(table, openDocumentClient()).listByCampaign(options.campaign));
      const summaries = summarize(aggregates, range);
      if (options.json) printJson({ campaignId: options.campaign, table, ...range, kinds: summaries });
      else for (const line of formatSummary(options.campaign, summaries, range)) print(line);
    });

  surveys
    .command('rebuild')
    .description("recompute a campaign's aggregates from its responses, overwrite them, and report the drift repaired")
    .requiredOption('--campaign <id>', 'the survey campaign id')
    .addOption(tableOption('--table-responses <name>', 'responses table, e.g. outreach-responses', 'RESPONSES_TABLE'))
    .addOption(tableOption('--table-aggregates <name>', 'survey aggregates table, e.g. outreach-surveyAggregates', 'SURVEY_AGGREGATES_TABLE'))
    .addOption(
      new Option(
        '--event-bus <name>',
        "the product's bus: answers not settled yet are settled first (counted, and their Survey Answered event published); without it their days are skipped",
      ).env('EVENT_BUS_NAME'),
    )
    .addOption(
      new Option(
        '--table-metrics <name>',
        'metrics table, e.g. outreach-metrics: answers settled here also get their response-rate count (without it, `outreach metrics rebuild` counts them later)',
      ).env('METRICS_TABLE'),
    )
    .option('--json', 'machine-readable output')
    .action(async (options: CampaignOption & { tableResponses: string; tableAggregates: string; tableMetrics?: string; eventBus?: string }) => {
      checkCampaign(options.campaign);
      const bus = options.eventBus?.trim();
      const db = openDocumentClient();
      const stored = new DynamoDbSurveyAggregates(options.tableAggregates, db);
      const aggregates = new ObservedAggregates(stored);
      const responses = new ObservedResponses(new DynamoDbSurveyResponses(options.tableResponses, db), bus !== undefined && bus !== '');
      const events: EventPublisher = bus
        ? busPublisher(bus)
        : {
            publish: () => Promise.reject(new UsageError('settling an answer publishes its Survey Answered event: pass --event-bus (or EVENT_BUS_NAME)')),
          };
      const tables = `${options.tableResponses} or ${options.tableAggregates}`;
      const { result, after } = await withTable(tables, async () => {
        const metricsTable = options.tableMetrics?.trim();
        const metrics = metricsTable
          ? { pending: new DynamoDbPendingCounts(options.tableResponses, 'surveyId', db), counters: new DynamoDbMetricsCounters(metricsTable, db) }
          : undefined;
        const result = await rebuildCampaignAggregates(
          { campaignId: options.campaign, now: new Date().toISOString() },
          { responses, aggregates, events, ...(metrics ? { metrics } : {}) },
        );
        return { result, after: await stored.listByCampaign(options.campaign) };
      });
      // Drift = what the rebuild read as stored (after settling answers, so their counts are no drift) vs. what it wrote.
      const before = aggregates.listed;

      const unsettled = responses.listed.filter((r) => needsSettlement(r) || r.settlement !== undefined);
      const busyDays = new Set(unsettled.map((r) => keyId(aggregateKeyOf(r))));
      const skipped = new Set(result.skipped.map(keyId));
      const beforeById = new Map(before.map((a) => [keyId(a), a]));
      const afterById = new Map(after.map((a) => [keyId(a), a]));
      const keys = new Map<string, Pick<StoredAggregate, 'day' | 'kind'>>();
      for (const a of [...before, ...after, ...result.skipped]) keys.set(keyId(a), { day: a.day, kind: a.kind });
      const report: RebuiltAggregate[] = [...keys]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, key]) => {
          if (skipped.has(id)) {
            const reason = busyDays.has(id)
              ? bus
                ? 'an answer of this day is being settled right now'
                : 'an answer of this day is not settled yet (see below)'
              : 'answers arrived during the rebuild';
            return { ...key, status: 'skipped' as const, changes: [], reason };
          }
          const changes = aggregateChanges(beforeById.get(id), afterById.get(id));
          return { ...key, status: changes.length > 0 ? ('repaired' as const) : ('unchanged' as const), changes };
        });
      const count = (status: RebuiltAggregate['status']) => report.filter((a) => a.status === status).length;
      const summary = {
        campaignId: options.campaign,
        tables: { responses: options.tableResponses, aggregates: options.tableAggregates },
        responses: responses.listed.length,
        settled: result.settled,
        unsettled: unsettled.length,
        repaired: count('repaired'),
        unchanged: count('unchanged'),
        skipped: count('skipped'),
        aggregates: report.map(({ reason, ...a }) => (reason !== undefined ? { ...a, reason } : a)),
      };
      if (options.json) {
        printJson(summary);
      } else {
        for (const a of report) print(rebuildLine(a));
        print(
          `${options.campaign}: ${report.length} aggregate(s) from ${summary.responses} answer(s): ${summary.repaired} repaired (drift), ` +
            `${summary.unchanged} unchanged, ${summary.skipped} skipped; ${summary.settled} answer(s) settled first`,
        );
      }
      if (summary.skipped > 0) {
        const why =
          !bus && unsettled.length > 0
            ? `${unsettled.length} answer(s) are not settled yet: the settle-responses schedule settles them within minutes, or pass --event-bus (or EVENT_BUS_NAME) to settle them here; then run the rebuild again`
            : 'run the rebuild again to finish them';
        throw new ReportedFailure(`${summary.skipped} aggregate(s) skipped: ${why}`);
      }
    });
}
