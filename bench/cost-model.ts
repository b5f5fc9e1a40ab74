/**
 * The arithmetic of bench/cost.ts, kept pure so test/unit/bench/cost-model.test.ts can check it with hand-built
 * snapshots: the deployment's billable facts from the synthesized CloudFormation templates, a meter snapshot
 * (local/meter.ts) → billable usage per service, usage → dollars (bench/prices.ts), the schedules' baseline, the fixed
 * monthly cost and the projections.
 */
import type { DynamoRow, MeterSnapshot } from '../local/meter.ts';
import { nextFireAfter, parseScheduleExpression } from '../local/schedule-expression.ts';
import { PRICES, type Prices } from './prices.ts';

// ---------------------------------------------------------------------------------------------------------------
// What the deployment bills for, read from the synthesized templates (what `cdk deploy` creates)
// ---------------------------------------------------------------------------------------------------------------

type Architecture = keyof Prices['lambda']['perGbSecond'];

export interface FunctionFacts {
  memoryMb: number;
  architecture: Architecture;
  tracing: boolean;
}

export interface DeploymentFacts {
  /** The product's functions by name (their description is `Outreach: <name>`); deploy-time helpers are left out. */
  functions: Record<string, FunctionFacts>;
  stateMachines: Array<{ type: 'STANDARD' | 'EXPRESS'; logLevel: string; tracing: boolean }>;
  schedules: Array<{ expression: string; target: string | undefined }>;
  alarms: number;
  /** What alarms bill: one per metric an alarm reads (a metric-math alarm reads several). */
  alarmMetrics: number;
  secrets: number;
  /** Customer managed KMS keys (AWS managed keys cost nothing a month). */
  customerKeys: number;
  /** Of them, with yearly automatic rotation (each rotation adds a backing key). */
  rotatingKeys: number;
  dashboards: number;
  /** The HTTP API stage's access-log format ($context variables), if it logs. */
  httpAccessLogFormat: string | undefined;
}

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}
export interface Template {
  Resources?: Record<string, TemplateResource>;
}

const FUNCTION_DESCRIPTION = /^Outreach: (.+)$/;

export function deploymentFacts(templates: readonly Template[]): DeploymentFacts {
  const resources = templates.flatMap((t) => Object.entries(t.Resources ?? {}));
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const functionByLogicalId = new Map<string, string>();
  const functions: Record<string, FunctionFacts> = {};
  for (const [id, r] of ofType('AWS::Lambda::Function')) {
    const p = r.Properties ?? {};
    const name = FUNCTION_DESCRIPTION.exec(String(p.Description ?? ''))?.[1];
    if (!name) continue;
    functionByLogicalId.set(id, name);
    functions[name] = {
      // CloudFormation's defaults when a property is absent: 128 MB, x86_64, PassThrough.
      memoryMb: Number(p.MemorySize ?? 128),
      architecture: ((p.Architectures as string[] | undefined)?.[0] ?? 'x86_64') as Architecture,
      tracing: (p.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
    };
  }
  const stateMachines = ofType('AWS::StepFunctions::StateMachine').map(([, r]) => {
    const p = r.Properties ?? {};
    return {
      type: (p.StateMachineType ?? 'STANDARD') as 'STANDARD' | 'EXPRESS',
      logLevel: String((p.LoggingConfiguration as { Level?: string } | undefined)?.Level ?? 'OFF'),
      tracing: (p.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled === true,
    };
  });
  const schedules = ofType('AWS::Scheduler::Schedule').map(([, r]) => {
    const p = r.Properties ?? {};
    const arn = (p.Target as { Arn?: unknown } | undefined)?.Arn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const logicalId = arn?.['Fn::GetAtt']?.[0];
    return { expression: String(p.ScheduleExpression), target: logicalId ? functionByLogicalId.get(logicalId) : undefined };
  });
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((sum, [, r]) => {
    const metrics = r.Properties?.Metrics as Array<{ MetricStat?: unknown }> | undefined;
    return sum + (metrics ? metrics.filter((m) => m.MetricStat !== undefined).length : 1);
  }, 0);
  const keys = ofType('AWS::KMS::Key');
  const stage = ofType('AWS::ApiGatewayV2::Stage')[0]?.[1];
  const format = (stage?.Properties?.AccessLogSettings as { Format?: unknown } | undefined)?.Format;
  return {
    functions,
    stateMachines,
    schedules,
    alarms: alarms.length,
    alarmMetrics,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    customerKeys: keys.length,
    rotatingKeys: keys.filter(([, r]) => r.Properties?.EnableKeyRotation === true).length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    httpAccessLogFormat: typeof format === 'string' ? format : undefined,
  };
}

/** How often a Scheduler expression fires in an average month (730 hours): rates exactly, crons over a year. */
export function runsPerMonth(expression: string, hoursPerMonth: number = PRICES.hoursPerMonth): number {
  const parsed = parseScheduleExpression(expression);
  if (parsed.kind === 'rate') return (hoursPerMonth * 3_600_000) / parsed.periodMs;
  // A non-leap year, fire by fire; 8,760 hours = 12 months of 730.
  const from = Date.UTC(2027, 0, 1);
  const to = Date.UTC(2028, 0, 1);
  let count = 0;
  for (let at = nextFireAfter(parsed, from - 1); at !== undefined && at < to; at = nextFireAfter(parsed, at)) count += 1;
  return (count * hoursPerMonth) / 8760;
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshot arithmetic
// ---------------------------------------------------------------------------------------------------------------

function mapNumbers<T>(row: T, fn: (value: number) => number): T {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(row as Record<string, unknown>)) {
    if (typeof value === 'number') out[field] = fn(value);
    else if (value && typeof value === 'object' && !Array.isArray(value)) out[field] = mapNumbers(value, fn);
    else out[field] = value;
  }
  return out as T;
}

function mapSnapshot(snapshot: MeterSnapshot, fn: (value: number) => number): MeterSnapshot {
  return {
    dynamodb: snapshot.dynamodb.map((r) => mapNumbers(r, fn)),
    lambda: snapshot.lambda.map((r) => mapNumbers(r, fn)),
    workflows: snapshot.workflows.map((r) => mapNumbers(r, fn)),
    events: snapshot.events.map((r) => mapNumbers(r, fn)),
    http: snapshot.http.map((r) => mapNumbers(r, fn)),
    secrets: snapshot.secrets.map((r) => mapNumbers(r, fn)),
  };
}

export const emptySnapshot = (): MeterSnapshot => ({ dynamodb: [], lambda: [], workflows: [], events: [], http: [], secrets: [] });

/** Every count multiplied by `factor` (per-run and per-journey figures are fractional). */
export function scaleSnapshot(snapshot: MeterSnapshot, factor: number): MeterSnapshot {
  return mapSnapshot(snapshot, (v) => v * factor);
}

const rowKeys = {
  dynamodb: (r: DynamoRow) => `${r.table}|${r.index ?? ''}|${r.operation}`,
  lambda: (r: MeterSnapshot['lambda'][number]) => r.function,
  workflows: (r: MeterSnapshot['workflows'][number]) => r.machine,
  events: (r: MeterSnapshot['events'][number]) => `${r.bus}|${r.source}|${r.detailType}`,
  http: (r: MeterSnapshot['http'][number]) => r.route,
  secrets: (r: MeterSnapshot['secrets'][number]) => r.secret,
};

function combine<T extends object>(a: T[], b: T[], key: (row: T) => string, sign: 1 | -1): T[] {
  const rows = new Map<string, T>(a.map((row) => [key(row), row]));
  for (const row of b) {
    const existing = rows.get(key(row));
    if (!existing) {
      rows.set(key(row), sign === 1 ? row : mapNumbers(row, (v) => -v));
      continue;
    }
    const merged: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(existing as Record<string, unknown>)) {
      const other = (row as Record<string, unknown>)[field];
      if (typeof value === 'number' && typeof other === 'number') merged[field] = value + sign * other;
      else if (value && typeof value === 'object' && !Array.isArray(value) && other && typeof other === 'object') {
        const keys = new Set([...Object.keys(value), ...Object.keys(other)]);
        merged[field] = Object.fromEntries([...keys].map((k) => [k, ((value as Record<string, number>)[k] ?? 0) + sign * ((other as Record<string, number>)[k] ?? 0)]));
      } else merged[field] = value;
    }
    rows.set(key(row), merged as T);
  }
  return [...rows.values()];
}

function combineSnapshots(a: MeterSnapshot, b: MeterSnapshot, sign: 1 | -1): MeterSnapshot {
  return {
    dynamodb: combine(a.dynamodb, b.dynamodb, rowKeys.dynamodb, sign),
    lambda: combine(a.lambda, b.lambda, rowKeys.lambda, sign),
    workflows: combine(a.workflows, b.workflows, rowKeys.workflows, sign),
    events: combine(a.events, b.events, rowKeys.events, sign),
    http: combine(a.http, b.http, rowKeys.http, sign),
    secrets: combine(a.secrets, b.secrets, rowKeys.secrets, sign),
  };
}

export const addSnapshots = (a: MeterSnapshot, b: MeterSnapshot): MeterSnapshot => combineSnapshots(a, b, 1);

/** `a − b` row by row, never below zero (a baseline estimate may exceed what one window measured). */
export function subtractSnapshots(a: MeterSnapshot, b: MeterSnapshot): MeterSnapshot {
  return mapSnapshot(combineSnapshots(a, b, -1), (v) => Math.max(0, v));
}

/**
 * What one idle run of each scheduled function costs, from a window in which only schedules ran (`idle`): the
 * function's own Lambda row, and the DynamoDB rows `ownerOf` attributes to it, divided by its runs in the window.
 */
export function perRunBaseline(idle: MeterSnapshot, ownerOf: (row: DynamoRow) => string | undefined): Record<string, MeterSnapshot> {
  const out: Record<string, MeterSnapshot> = {};
  for (const row of idle.lambda) {
    if (row.invocations <= 0) continue;
    const own: MeterSnapshot = { ...emptySnapshot(), lambda: [row], dynamodb: idle.dynamodb.filter((r) => ownerOf(r) === row.function) };
    out[row.function] = scaleSnapshot(own, 1 / row.invocations);
  }
  return out;
}

/**
 * `window` without what its scheduled runs would have cost idle: those runs happen every minute whether or not
 * anything is due (the fixed monthly cost), so a journey is charged only for the work it adds to them.
 */
export function withoutBaseline(window: MeterSnapshot, perRun: Readonly<Record<string, MeterSnapshot>>): MeterSnapshot {
  let baseline = emptySnapshot();
  for (const row of window.lambda) {
    const run = perRun[row.function];
    if (run) baseline = addSnapshots(baseline, scaleSnapshot(run, row.invocations));
  }
  return subtractSnapshots(window, baseline);
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshot → billable usage
// ---------------------------------------------------------------------------------------------------------------

export interface UsageOptions {
  functions: DeploymentFacts['functions'];
  /** Memory of a function the templates do not list (the CDK construct's default). */
  defaultMemoryMb: number;
  defaultArchitecture: Architecture;
  /** Emails SES sent in the window (the meter does not see SES). */
  emails: number;
  /** Sources of the product's own events: published by traced functions, their targets join that trace. */
  productSources: readonly string[];
  /** Lambda's own lines per invocation (START, END, REPORT, and XRAY when traced), which the handler never writes. */
  platformLogBytesPerInvocation: number;
  /** One ERROR-level execution log record (no execution data) per failed state or execution. */
  workflowErrorLogBytes: number;
}

export interface FunctionUsage {
  function: string;
  invocations: number;
  memoryMb: number;
  architecture: Architecture;
  billedMs: number;
  gbSeconds: number;
  logBytes: number;
}

export interface TableUsage {
  /** `table` or `table/index`. */
  name: string;
  readUnits: number;
  writeUnits: number;
  /** Item writes (an index key change is two: a delete and a put), and failed conditional writes (table only). */
  itemWrites: number;
  failedConditions: number;
  /** Write units by operation (PutItem, UpdateItem, …). */
  writeUnitsByOperation: Record<string, number>;
}

export interface Usage {
  standard: { executions: number; transitions: number };
  express: { requests: number; billedMs: number; gbSeconds: number };
  lambda: { invocations: number; gbSeconds: number; byFunction: FunctionUsage[] };
  dynamodb: { readUnits: number; writeUnits: number; byTable: TableUsage[] };
  events: { customEntries: number; customChunks: number; serviceEntries: number };
  http: { requests: number; billedRequests: number; responseBytes: number };
  ses: { emails: number };
  secrets: { calls: number };
  /** Requests to KMS keys the usage causes: each GetSecretValue decrypts with the secret's key. */
  kms: { requests: number };
  logs: { lambdaBytes: number; accessLogBytes: number; workflowBytes: number; bytes: number };
  /** Requests that start a trace (the events from outside, HTTP requests); X-Ray records the sampled share. */
  xray: { traceRoots: number };
}

const sum = <T>(rows: readonly T[], value: (row: T) => number) => rows.reduce((total, row) => total + value(row), 0);

/** GB-seconds as Lambda bills them: the billed (1 ms-rounded) duration times the configured memory. */
export const lambdaGbSeconds = (billedMs: number, memoryMb: number) => (billedMs / 1000) * (memoryMb / 1024);

export function usageOf(snapshot: MeterSnapshot, options: UsageOptions): Usage {
  const byFunction = snapshot.lambda.map((row) => {
    const facts = options.functions[row.function];
    const memoryMb = facts?.memoryMb ?? options.defaultMemoryMb;
    return {
      function: row.function,
      invocations: row.invocations,
      memoryMb,
      architecture: facts?.architecture ?? options.defaultArchitecture,
      billedMs: row.billedMs,
      gbSeconds: lambdaGbSeconds(row.billedMs, memoryMb),
      logBytes: row.logBytes + row.invocations * options.platformLogBytesPerInvocation,
    };
  });
  const tables = new Map<string, TableUsage>();
  for (const row of snapshot.dynamodb) {
    const name = row.index ? `${row.table}/${row.index}` : row.table;
    const usage = tables.get(name) ?? { name, readUnits: 0, writeUnits: 0, itemWrites: 0, failedConditions: 0, writeUnitsByOperation: {} };
    usage.readUnits += row.readUnits;
    usage.writeUnits += row.writeUnits;
    usage.itemWrites += row.itemWrites;
    usage.failedConditions += row.failedConditions;
    if (row.writeUnits > 0) usage.writeUnitsByOperation[row.operation] = (usage.writeUnitsByOperation[row.operation] ?? 0) + row.writeUnits;
    tables.set(name, usage);
  }
  const byTable = [...tables.values()].filter((t) => t.readUnits > 0 || t.writeUnits > 0);
  const standard = snapshot.workflows.filter((w) => w.type === 'STANDARD');
  const express = snapshot.workflows.filter((w) => w.type === 'EXPRESS');
  const expressBilledMs = sum(express, (w) => w.billedMs);
  const isService = (source: string) => source.startsWith('aws.');
  const custom = snapshot.events.filter((e) => !isService(e.source));
  const secretsCalls = sum(snapshot.secrets, (s) => s.calls);
  const lambdaBytes = sum(byFunction, (f) => f.logBytes);
  const accessLogBytes = sum(snapshot.http, (h) => h.accessLogBytes);
  const failures = sum(snapshot.workflows, (w) => (w.events.StateFailed ?? 0) + (w.events.ExecutionFailed ?? 0) + (w.events.ExecutionTimeout ?? 0));
  const workflowBytes = failures * options.workflowErrorLogBytes;
  const httpRequests = sum(snapshot.http, (h) => h.requests);
  return {
    standard: { executions: sum(standard, (w) => w.executions), transitions: sum(standard, (w) => w.transitions) },
    express: {
      requests: sum(express, (w) => w.executions),
      billedMs: expressBilledMs,
      gbSeconds: (expressBilledMs / 1000) * (PRICES.stepFunctions.expressMemoryChunkMb / 1024),
    },
    lambda: { invocations: sum(byFunction, (f) => f.invocations), gbSeconds: sum(byFunction, (f) => f.gbSeconds), byFunction },
    dynamodb: { readUnits: sum(byTable, (t) => t.readUnits), writeUnits: sum(byTable, (t) => t.writeUnits), byTable },
    events: { customEntries: sum(custom, (e) => e.entries), customChunks: sum(custom, (e) => e.chunks), serviceEntries: sum(snapshot.events, (e) => (isService(e.source) ? e.entries : 0)) },
    http: { requests: httpRequests, billedRequests: sum(snapshot.http, (h) => h.billedRequests), responseBytes: sum(snapshot.http, (h) => h.responseBytes) },
    ses: { emails: options.emails },
    secrets: { calls: secretsCalls },
    kms: { requests: secretsCalls },
    logs: { lambdaBytes, accessLogBytes, workflowBytes, bytes: lambdaBytes + accessLogBytes + workflowBytes },
    xray: {
      // An event from outside starts a trace at each target that traces on its own (Active); a PassThrough function
      // (traced only inside a caller's sampled trace) gets no trace from an event, which carries none.
      traceRoots:
        httpRequests +
        sum(snapshot.events.filter((e) => !options.productSources.includes(e.source)), (e) =>
          sum(Object.entries(e.targetNames), ([target, count]) => (options.functions[target]?.tracing === false ? 0 : count)),
        ),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Usage → dollars
// ---------------------------------------------------------------------------------------------------------------

export interface ServiceCost {
  service: string;
  usd: number;
}

export const SES_SERVICE = 'SES';
const GB = 1024 ** 3;

/**
 * X-Ray's default rule at a steady `rootsPerSecond`: the first request each second, 5 % of the rest (bursts, such as
 * the sends of a campaign's send window, are sampled less than this average).
 */
export function xraySampledFraction(rootsPerSecond: number, prices: Prices = PRICES): number {
  const { defaultReservoirPerSecond: reservoir, defaultFixedRate: rate } = prices.xray;
  if (rootsPerSecond <= reservoir) return 1;
  return (reservoir + rate * (rootsPerSecond - reservoir)) / rootsPerSecond;
}

/** Dollars per service for `usage`; X-Ray records `xraySampled` of the trace roots. */
export function priceUsage(usage: Usage, options: { xraySampled: number }, prices: Prices = PRICES): ServiceCost[] {
  const lambdaDuration = sum(usage.lambda.byFunction, (f) => f.gbSeconds * prices.lambda.perGbSecond[f.architecture]);
  return [
    { service: 'Step Functions Standard', usd: usage.standard.transitions * prices.stepFunctions.standardPerTransition },
    { service: 'Step Functions Express', usd: usage.express.requests * prices.stepFunctions.expressPerRequest + usage.express.gbSeconds * prices.stepFunctions.expressPerGbSecond },
    { service: 'Lambda', usd: usage.lambda.invocations * prices.lambda.perRequest + lambdaDuration },
    { service: 'DynamoDB', usd: usage.dynamodb.readUnits * prices.dynamodb.perReadRequestUnit + usage.dynamodb.writeUnits * prices.dynamodb.perWriteRequestUnit },
    { service: 'EventBridge', usd: usage.events.customChunks * prices.eventBridge.perCustomEvent },
    { service: 'HTTP API', usd: usage.http.billedRequests * prices.httpApi.perRequest + (usage.http.responseBytes / GB) * prices.httpApi.dataTransferOutPerGb },
    { service: SES_SERVICE, usd: usage.ses.emails * prices.ses.perEmail },
    { service: 'Secrets Manager', usd: usage.secrets.calls * prices.secretsManager.perApiCall },
    { service: 'KMS', usd: usage.kms.requests * prices.kms.perRequest },
    { service: 'CloudWatch Logs', usd: (usage.logs.bytes / GB) * prices.cloudWatch.logsIngestionPerGb },
    { service: 'X-Ray', usd: usage.xray.traceRoots * options.xraySampled * prices.xray.perTraceRecorded },
  ];
}

export const totalUsd = (costs: readonly ServiceCost[], options: { withoutSes?: boolean } = {}) =>
  sum(costs.filter((c) => !(options.withoutSes && c.service === SES_SERVICE)), (c) => c.usd);

/** Dollars per 1,000 journeys from the cost of `journeys` journeys. */
export const perThousand = (costs: readonly ServiceCost[], journeys: number): ServiceCost[] => costs.map((c) => ({ service: c.service, usd: (c.usd * 1000) / journeys }));

/** Write request units (and item writes) per journey by table and index, largest first, and their sum. */
export function writeUnitsPerJourney(
  usage: Usage,
  journeys: number,
): { byTable: Array<{ name: string; writeUnits: number; itemWrites: number; failedConditions: number }>; total: number } {
  const byTable = usage.dynamodb.byTable
    .filter((t) => t.writeUnits > 0)
    .map((t) => ({ name: t.name, writeUnits: t.writeUnits / journeys, itemWrites: t.itemWrites / journeys, failedConditions: t.failedConditions / journeys }))
    .sort((a, b) => b.writeUnits - a.writeUnits || (a.name < b.name ? -1 : 1));
  return { byTable, total: sum(byTable, (t) => t.writeUnits) };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixed monthly cost and projections
// ---------------------------------------------------------------------------------------------------------------

export interface FixedMonthlyInputs {
  facts: DeploymentFacts;
  /** The usage of one idle run of each scheduled function (perRunBaseline → usageOf). */
  perRunUsage: Readonly<Record<string, Usage>>;
  /** Custom CloudWatch metrics the functions publish (EMF), each one metric per dimension set. */
  customMetrics: number;
}

export interface FixedLine extends ServiceCost {
  detail: string;
}

/** What the deployment costs a month with no journey at all: schedules and what they run, alarms, metrics, secrets, keys. */
export function fixedMonthly(inputs: FixedMonthlyInputs, prices: Prices = PRICES): FixedLine[] {
  const { facts } = inputs;
  const runs = facts.schedules.map((s) => ({ ...s, perMonth: runsPerMonth(s.expression, prices.hoursPerMonth) }));
  const invocations = sum(runs, (r) => r.perMonth);
  const lines: FixedLine[] = [
    { service: 'EventBridge Scheduler', usd: invocations * prices.scheduler.perInvocation, detail: `${fmtCount(invocations)} invocations (${runs.map((r) => r.expression).join(', ')}; 14M/month free)` },
  ];
  for (const run of runs) {
    const usage = run.target ? inputs.perRunUsage[run.target] : undefined;
    if (!usage) continue;
    // Each scheduled invocation starts a trace; at most one a minute, always inside the 1/s reservoir.
    const perRun = totalUsd(priceUsage({ ...usage, xray: { traceRoots: facts.functions[run.target!]?.tracing === false ? 0 : 1 } }, { xraySampled: 1 }, prices));
    lines.push({ service: `${run.target} runs`, usd: perRun * run.perMonth, detail: `${fmtCount(run.perMonth)} × $${perRun.toPrecision(3)} (Lambda, DynamoDB, logs, X-Ray of an idle run)` });
  }
  lines.push(
    { service: 'CloudWatch alarms', usd: facts.alarmMetrics * prices.cloudWatch.alarmMetricMonth, detail: `${facts.alarms} alarms reading ${facts.alarmMetrics} metrics` },
    { service: 'CloudWatch custom metrics', usd: inputs.customMetrics * prices.cloudWatch.customMetricMonth, detail: `${inputs.customMetrics} EMF metrics` },
    { service: 'CloudWatch dashboards', usd: facts.dashboards * prices.cloudWatch.dashboardMonth, detail: `${facts.dashboards} (the metrics dashboard is a page of the HTTP API)` },
    { service: 'Secrets Manager secrets', usd: facts.secrets * prices.secretsManager.perSecretMonth, detail: `${facts.secrets} secrets` },
    {
      service: 'KMS keys',
      usd: facts.customerKeys * prices.kms.perKeyMonth,
      detail: `${facts.customerKeys} customer managed key(s)${facts.rotatingKeys ? `, rotating yearly: +$${prices.kms.perKeyMonth}/month per rotation` : ''}`,
    },
  );
  return lines;
}

/** The monthly bill at `journeysPerMonth`: fixed plus the variable cost per 1,000 journeys scaled. */
export function monthlyAt(journeysPerMonth: number, fixedUsd: number, variablePerThousandUsd: number): { fixed: number; variable: number; total: number } {
  const variable = (variablePerThousandUsd * journeysPerMonth) / 1000;
  return { fixed: fixedUsd, variable, total: fixedUsd + variable };
}

function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
