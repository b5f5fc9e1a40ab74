/**
 * Metric targets (metrics/targets.yaml): per metric a comparator (`>=` or `<=`, also written `≥` / `≤`) and a value,
 * optionally overridden per campaign for the survey metrics. Problems are reported like campaign rule files, with
 * file, line and field path: `metrics/targets.yaml:4 targets.csat.value: must be a number from 0 to 100, in percent`.
 *
 * ```yaml
 * repeatPurchaseWindowDays: 90     # optional, 0–365, default 90
 * targets:
 *   nps: { comparator: ">=", value: 30, campaigns: { nps-after-purchase: { value: 40 } } }
 *   churnRate: { comparator: "<=", value: 15 }
 * ```
 *
 * Values are in the metric's unit: NPS points (−100…100), percentages as 0…100 (80 means 80 %), CES as a mean score
 * on its 1–7 scale (7 = very easy, so a CES target is normally `>=`). An empty file sets no targets.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { CAMPAIGN_METRICS, METRICS, METRIC_IDS, isCampaignMetric, type MetricDefinition, type MetricId } from './compute.ts';
import { DEFAULT_REPEAT_WINDOW_DAYS, MAX_REPEAT_WINDOW_DAYS } from './model.ts';
import { closestName, pathText } from '../rule-file-messages.ts';

export type Comparator = '>=' | '<=';

export interface Target {
  comparator: Comparator;
  value: number;
}

export interface MetricTarget extends Target {
  /** Per campaign id (survey metrics only); an override without a comparator takes the metric's. */
  campaigns?: Record<string, Target>;
}

export interface TargetsConfig {
  repeatPurchaseWindowDays: number;
  targets: Partial<Record<MetricId, MetricTarget>>;
}

export interface ResolvedTarget extends Target {
  /** `campaign`: a per-campaign override applies. */
  source: 'default' | 'campaign';
}

export class InvalidTargetsError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`metric targets are invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidTargetsError';
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Schema

const COMPARATORS = ['>=', '<=', '≥', '≤'] as const;
const comparatorSchema = z
  .enum(COMPARATORS, {
    error: (issue) =>
      issue.input === undefined ? 'is missing (expected ">=" or "<=")' : `${JSON.stringify(issue.input)} is not a comparator (expected ">=" or "<=")`,
  })
  .transform((c): Comparator => (c === '≥' || c === '>=' ? '>=' : '<='));

const unitText = (m: MetricDefinition) => (m.unit === 'percent' ? 'in percent' : m.unit === 'points' ? 'in NPS points' : 'a mean score (7 = very easy)');

function valueSchema(metric: MetricDefinition) {
  const expected = `a number from ${metric.min} to ${metric.max}, ${unitText(metric)}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? `is missing (expected ${expected})` : `must be ${expected}`) })
    .min(metric.min, `must be ${expected}`)
    .max(metric.max, `must be ${expected}`);
}

const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const campaignIdSchema = z.string().regex(CAMPAIGN_ID, 'is not a campaign id (lowercase letters, digits and dashes)');
const TARGET_EXAMPLE = 'e.g. { comparator: ">=", value: 30 }';

function metricTargetSchema(id: MetricId) {
  const value = valueSchema(METRICS[id]);
  const mapping = { error: `must be a mapping with comparator and value, ${TARGET_EXAMPLE}` };
  const override = z.strictObject({ comparator: comparatorSchema.optional(), value }, { error: `must be a mapping with value (and comparator), ${TARGET_EXAMPLE}` });
  const campaigns = z.record(campaignIdSchema, override, { error: 'must be a mapping of campaign id → { comparator, value }' }).optional();
  const withDefaults = (target: { comparator: Comparator; value: number; campaigns?: Record<string, { comparator?: Comparator; value: number }> }): MetricTarget => {
    const base: MetricTarget = { comparator: target.comparator, value: target.value };
    if (target.campaigns === undefined) return base;
    const overrides = Object.entries(target.campaigns).map(([campaignId, o]) => [campaignId, { comparator: o.comparator ?? target.comparator, value: o.value }]);
    return { ...base, campaigns: Object.fromEntries(overrides) };
  };
  // Only the survey metrics have campaigns: elsewhere `campaigns` is an unknown field (with its own message).
  return isCampaignMetric(id)
    ? z.strictObject({ comparator: comparatorSchema, value, campaigns }, mapping).transform(withDefaults)
    : z.strictObject({ comparator: comparatorSchema, value }, mapping).transform(withDefaults);
}

const targetsShape = Object.fromEntries(METRIC_IDS.map((id) => [id, metricTargetSchema(id).optional()])) as {
  [K in MetricId]: z.ZodOptional<ReturnType<typeof metricTargetSchema>>;
};

export const targetsFileSchema = z.strictObject(
  {
    repeatPurchaseWindowDays: z
      .number({ error: `must be a whole number of days from 0 to ${MAX_REPEAT_WINDOW_DAYS}, e.g. 90` })
      .int(`must be a whole number of days from 0 to ${MAX_REPEAT_WINDOW_DAYS}, e.g. 90`)
      .min(0, `must be a whole number of days from 0 to ${MAX_REPEAT_WINDOW_DAYS}, e.g. 90`)
      .max(MAX_REPEAT_WINDOW_DAYS, `must be a whole number of days from 0 to ${MAX_REPEAT_WINDOW_DAYS}, e.g. 90`)
      .default(DEFAULT_REPEAT_WINDOW_DAYS),
    targets: z.strictObject(targetsShape, { error: 'must be a mapping of metric → { comparator, value }' }).default({}),
  },
  { error: 'must be a mapping with `targets:` (e.g. targets: { nps: { comparator: ">=", value: 30 } })' },
);

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** The line of the key a path ends at (of its nearest existing ancestor's key when it is missing). */
function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<PropertyKey>): number {
  for (let depth = path.length; depth >= 1; depth -= 1) {
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1) as unknown[], true);
    if (!isMap(parent)) continue;
    const pair = parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === path[depth - 1]);
    if (pair && isNode(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]).line;
  }
  return isNode(doc.contents) && doc.contents.range ? counter.linePos(doc.contents.range[0]).line : 1;
}

function unknownKeyMessage(parent: ReadonlyArray<PropertyKey>, key: string): string {
  if (parent.length === 2 && key === 'campaigns') {
    return `is not a known field: per-campaign targets apply only to ${CAMPAIGN_METRICS.join(', ')} (contracts and purchases belong to no campaign)`;
  }
  const [known, what] =
    parent.length === 0
      ? [['repeatPurchaseWindowDays', 'targets'], 'field']
      : parent.length === 1 && parent[0] === 'targets'
        ? [[...METRIC_IDS], 'metric']
        : parent.length === 2
          ? [isCampaignMetric(parent[1] as MetricId) ? ['comparator', 'value', 'campaigns'] : ['comparator', 'value'], 'field']
          : [['comparator', 'value'], 'field'];
  const close = closestName(key, known);
  return close ? `is not a known ${what} (did you mean ${close}?)` : `is not a known ${what} (expected one of: ${known.join(', ')})`;
}

/** Parses and validates the text of a targets file. `displayName` is used in messages. */
export function parseTargetsText(text: string, displayName: string): { config?: TargetsConfig; problems: string[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map(
        (e) => `${displayName}:${e.linePos?.[0]?.line ?? 1} ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      ),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = targetsFileSchema.safeParse(raw);
  if (parsed.success) return { config: parsed.data as TargetsConfig, problems: [] };
  const located = parsed.error.issues.flatMap((issue) => {
    const entries =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key], message: unknownKeyMessage(issue.path, key) }))
        : [{ path: issue.path, message: issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message }];
    return entries.map(({ path, message }) => {
      const line = lineOf(doc, counter, path);
      return { line, text: `${displayName}:${line} ${pathText(path)}: ${message}` };
    });
  });
  return { problems: located.sort((a, b) => a.line - b.line).map((p) => p.text) };
}

/** Reads and validates a targets file (normally metrics/targets.yaml); throws InvalidTargetsError listing every problem. */
export function loadTargetsFile(path: string, cwd = process.cwd()): TargetsConfig {
  const displayName = relative(cwd, path) || path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InvalidTargetsError([`${displayName}: cannot be read (${code === 'ENOENT' ? 'no such file' : code})`]);
  }
  const result = parseTargetsText(text, displayName);
  if (!result.config) throw new InvalidTargetsError(result.problems);
  return result.config;
}

// ---------------------------------------------------------------------------------------------------------------
// Use

/** The target of a metric, for a campaign if one is given and it has an override. */
export function targetFor(config: Pick<TargetsConfig, 'targets'>, metric: MetricId, campaignId?: string): ResolvedTarget | undefined {
  const target = config.targets[metric];
  if (!target) return undefined;
  const override = campaignId !== undefined ? target.campaigns?.[campaignId] : undefined;
  if (override) return { comparator: override.comparator, value: override.value, source: 'campaign' };
  return { comparator: target.comparator, value: target.value, source: 'default' };
}

/** Whether `value` meets `target` (the exact value, not a rounded one); undefined without a value. */
export function meetsTarget(value: number | undefined, target: Target): boolean | undefined {
  if (value === undefined) return undefined;
  return target.comparator === '>=' ? value >= target.value : value <= target.value;
}
