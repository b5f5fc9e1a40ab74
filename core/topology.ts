/**
 * The wiring of the product, as plain data shared by both runtimes: the CDK stacks build AWS resources from it and
 * the embedded local stack builds its bus rules, schedules, HTTP routes and workflow task dispatch from it. Keeping
 * it in one place is what makes "the same system" locally and in AWS true rather than hoped for.
 */
import { DETRACTOR_MAX_SCORE } from './use-cases/build-detractor-alert.ts';

/** Every Lambda function of the product. The name is the folder under functions/ (functions/<name>/handler.ts). */
export const FUNCTION_NAMES = [
  'ingest-event',
  'dispatch-due',
  'check-eligibility',
  'render-email',
  'send-email',
  'record-outcome',
  'unsubscribe',
  'survey-answer',
  'settle-responses',
  'detractor-alert',
  'contract-events',
  'renewal-sweep',
  'metrics-api',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The `source` of the events the product itself publishes on its bus (Survey Answered, Detractor Alert). */
export const PRODUCT_EVENT_SOURCE = 'outreach.surveys';

/** The EventBridge `source` the commerce system publishes with. Admins may override it with context. */
export const DEFAULT_COMMERCE_EVENT_SOURCE = 'outreach.commerce';

/** Event detail-types the product consumes (the documented event contract, see docs/events.md). */
export const DETAIL_TYPES = {
  purchaseCompleted: 'Purchase Completed',
  orderRefunded: 'Order Refunded',
  orderCancelled: 'Order Cancelled',
  /** From SES (source `aws.ses`), through the configuration set's EventBridge destination. */
  emailBounced: 'Email Bounced',
  emailComplaint: 'Email Complaint Received',
  /** SES accepted a message: settles a send whose answer was lost (UNCONFIRMED). */
  emailSent: 'Email Sent',
  contractStarted: 'Contract Started',
  contractUpdated: 'Contract Updated',
  /** A renewal: the contract runs on to a new end date. */
  contractRenewed: 'Contract Renewed',
  contractCancelled: 'Contract Cancelled',
  /** Published by the product (source PRODUCT_EVENT_SOURCE) when a customer answers or changes a survey answer. */
  surveyAnswered: 'Survey Answered',
  /** Published by the close-the-loop workflow for a detractor's answer: what a ticketing system consumes. */
  detractorAlert: 'Detractor Alert',
} as const;

export interface EventRuleSpec {
  /** Logical name of the rule, unique. */
  name: string;
  description: string;
  /** The bus the rule lives on: the product's bus, or the account's default bus (where AWS services publish). */
  bus: 'product' | 'default';
  /** Event `source` to match; absent means the configured commerce source. */
  source?: string;
  detailTypes: string[];
  /**
   * Dotted paths under `detail` that must exist for the rule to match (EventBridge's `exists` filter), so a target gets
   * only the events it is for.
   */
  detailExists?: string[];
  /**
   * The rule matches only when the detail fits at least one of these (EventBridge's `$or` of content filters), each
   * naming top-level detail fields: a string must be equal, `{ atMost }` is a numeric `<=`. Filtering on the bus costs
   * nothing, while every event a workflow target receives starts a billed execution.
   */
  detailAnyOf?: ReadonlyArray<Readonly<Record<string, DetailMatch>>>;
  /** A function (invoked asynchronously) or a workflow (an execution per event). */
  target: FunctionName | { workflow: WorkflowName };
}

/** One field's content filter in {@link EventRuleSpec.detailAnyOf}: equal to a string, or a number at most `atMost`. */
export type DetailMatch = string | { atMost: number };

/**
 * The scores that can make an answer a detractor's, per survey kind (DETRACTOR_MAX_SCORE): the close-the-loop rule starts
 * its workflow for these only. Whether the answer *became* a detractor's (not an edit between two detractor scores)
 * is still the workflow's decision.
 */
const DETRACTOR_ANSWERS = Object.entries(DETRACTOR_MAX_SCORE).map(([kind, atMost]) => ({ kind, score: { atMost } }));

export const EVENT_RULES: readonly EventRuleSpec[] = [
  {
    name: 'commerce-events',
    description: 'Purchases, refunds and cancellations from the commerce system go to the ingest function',
    bus: 'product',
    detailTypes: [DETAIL_TYPES.purchaseCompleted, DETAIL_TYPES.orderRefunded, DETAIL_TYPES.orderCancelled],
    target: 'ingest-event',
  },
  {
    name: 'contract-events',
    description: 'Contracts from the commerce or billing system: started, updated, renewed, cancelled',
    bus: 'product',
    detailTypes: [DETAIL_TYPES.contractStarted, DETAIL_TYPES.contractUpdated, DETAIL_TYPES.contractRenewed, DETAIL_TYPES.contractCancelled],
    target: 'contract-events',
  },
  {
    name: 'ses-feedback',
    description: 'Hard bounces and complaints from SES suppress the address',
    // SES configuration sets can publish only to the default bus.
    bus: 'default',
    source: 'aws.ses',
    detailTypes: [DETAIL_TYPES.emailBounced, DETAIL_TYPES.emailComplaint],
    target: 'ingest-event',
  },
  {
    name: 'ses-sends',
    description: "SES's Send events settle sends whose answer was lost (a touchpoint SENDING or UNCONFIRMED becomes SENT)",
    bus: 'default',
    source: 'aws.ses',
    detailTypes: [DETAIL_TYPES.emailSent],
    // Only our touchpoints' sends: alerts and test sends carry no touchpoint tag.
    detailExists: ['mail.tags.touchpointId'],
    target: 'record-outcome',
  },
  {
    name: 'survey-answers',
    description: "Survey answers update the customer's loyalty fields and start follow-up campaigns",
    bus: 'product',
    source: PRODUCT_EVENT_SOURCE,
    detailTypes: [DETAIL_TYPES.surveyAnswered],
    target: 'ingest-event',
  },
  {
    name: 'close-the-loop',
    description: "A detractor's answer alerts the customer-experience team and publishes a Detractor Alert",
    bus: 'product',
    source: PRODUCT_EVENT_SOURCE,
    detailTypes: [DETAIL_TYPES.surveyAnswered],
    detailAnyOf: DETRACTOR_ANSWERS,
    target: { workflow: 'close-the-loop' },
  },
];

export interface ScheduleSpec {
  name: string;
  description: string;
  /** An EventBridge Scheduler expression: `rate(...)` or `cron(...)` (evaluated in UTC). */
  expression: string;
  target: FunctionName;
  /**
   * Only finishes work an interrupted request left (nothing to do otherwise): the local stack's `advance` does not stop
   * the clock for it, and fires it only at stops it makes anyway; its real-time ticker fires it as usual.
   */
  recovery?: boolean;
}

/**
 * Scheduler targets receive `{ "scheduledTime": "<aws.scheduler.scheduled-time>" }` as their event, so handlers take
 * "now" from the event that started them rather than from a clock of their own.
 */
export const SCHEDULES: readonly ScheduleSpec[] = [
  {
    name: 'dispatch-due-touchpoints',
    description: 'Every minute: start a workflow for every touchpoint that is due',
    expression: 'rate(1 minute)',
    target: 'dispatch-due',
  },
  {
    name: 'renewal-sweep',
    description: "Daily: plan the renewal reminders whose day comes within the next 27 hours, record contracts that ended",
    expression: 'cron(0 3 * * ? *)',
    target: 'renewal-sweep',
  },
  {
    name: 'settle-survey-responses',
    description:
      'Every 5 minutes: finish counting and publishing survey answers whose request was cut short, and the metric counts ' +
      'of touchpoints, contracts and customers whose settler stopped (core/metrics/settle-stale.ts)',
    expression: 'rate(5 minutes)',
    target: 'settle-responses',
    recovery: true,
  },
];

export interface HttpRouteSpec {
  method: 'GET' | 'POST';
  /** API Gateway HTTP API route path. */
  path: string;
  target: FunctionName;
}

/** Public HTTP routes (links in emails). Served by an API Gateway HTTP API in AWS and by the local web server. */
export const HTTP_ROUTES: readonly HttpRouteSpec[] = [
  { method: 'GET', path: '/unsubscribe', target: 'unsubscribe' },
  { method: 'POST', path: '/unsubscribe', target: 'unsubscribe' },
  // GET shows the chosen score with a submit button (mail scanners prefetch links); POST records it.
  { method: 'GET', path: '/survey', target: 'survey-answer' },
  { method: 'POST', path: '/survey', target: 'survey-answer' },
  // The loyalty and retention metrics: the dashboard page and its JSON (a bearer token guards the JSON, see
  // docs/metrics.md); read-only.
  { method: 'GET', path: '/metrics', target: 'metrics-api' },
  { method: 'GET', path: '/dashboard', target: 'metrics-api' },
];

/**
 * The workflows under workflows/<file>.asl.json, by the touchpoint kind each one sends (one state machine per kind;
 * a follow-up goes through the same steps as a check-in). Renewal reminders get theirs with the contracts.
 */
export const WORKFLOWS = {
  'check-in': 'check-in',
  survey: 'survey',
  'follow-up': 'check-in',
  'renewal-reminder': 'renewal-reminder',
} as const;

/** Workflows started by events rather than by due touchpoints (EVENT_RULES targets). */
export const EVENT_WORKFLOWS = { 'close-the-loop': 'close-the-loop' } as const;
/** A state machine: a touchpoint kind's, or an event workflow's. */
export type WorkflowName = keyof typeof WORKFLOWS | keyof typeof EVENT_WORKFLOWS;
/** Every state machine and the file it runs. */
export const ALL_WORKFLOWS: Readonly<Record<WorkflowName, string>> = { ...WORKFLOWS, ...EVENT_WORKFLOWS };

/**
 * `${Placeholder}` → function substituted into the workflow definitions. In AWS the value is the function ARN; the
 * local stack substitutes an ARN of the same shape and dispatches the Task to the in-process handler.
 */
export const WORKFLOW_FUNCTION_PLACEHOLDERS: Readonly<Record<string, FunctionName>> = {
  CheckEligibilityFunctionArn: 'check-eligibility',
  RenderEmailFunctionArn: 'render-email',
  SendEmailFunctionArn: 'send-email',
  RecordOutcomeFunctionArn: 'record-outcome',
  DetractorAlertFunctionArn: 'detractor-alert',
};

/** Environment variables, by name. Every handler parses the ones it needs when its module loads. */
/** The share of the account's SES maximum send rate dispatch uses unless configured (context outreach:sendRateShare). */
export const DEFAULT_SEND_RATE_SHARE = 0.9;
/**
 * Minutes the oldest due touchpoint may wait before the backlog alarm goes off (context outreach:backlogAlarmMinutes).
 * A launch that the send rate drains within the hour does not page; one that the rate cannot keep up with does.
 */
export const DEFAULT_BACKLOG_ALARM_MINUTES = 60;

export const ENV = {
  customersTable: 'CUSTOMERS_TABLE',
  touchpointsTable: 'TOUCHPOINTS_TABLE',
  campaignsTable: 'CAMPAIGNS_TABLE',
  contractsTable: 'CONTRACTS_TABLE',
  /** JSON object: touchpoint kind → state machine ARN. */
  workflowArns: 'WORKFLOW_ARNS',
  dispatchShards: 'DISPATCH_SHARDS',
  /** The share of the account's SES maximum send rate dispatch may use (0 < share ≤ 1). */
  sendRateShare: 'SEND_RATE_SHARE',
  /** An upper bound on sends per second whatever SES allows; empty: none. */
  maxSendsPerSecond: 'MAX_SENDS_PER_SECOND',
  senderAddress: 'SENDER_ADDRESS',
  configurationSet: 'SES_CONFIGURATION_SET',
  publicBaseUrl: 'PUBLIC_BASE_URL',
  linkSecretArn: 'LINK_SECRET_ARN',
  responsesTable: 'RESPONSES_TABLE',
  surveyAggregatesTable: 'SURVEY_AGGREGATES_TABLE',
  /** Per-day metric records: survey sends, contract outcomes, purchase cohorts (core/metrics/model.ts). */
  metricsTable: 'METRICS_TABLE',
  /** Secrets Manager secret `{"current":"k1","k1":"…"}`: the keys that sign one-click survey links. */
  surveyKeyringArn: 'SURVEY_KEYRING_SECRET_ARN',
  /** Secrets Manager secret: the bearer token of GET /metrics (docs/metrics.md, "Dashboard and API"). */
  metricsTokenArn: 'METRICS_TOKEN_SECRET_ARN',
  /** JSON: metrics/targets.yaml as parsed at synth (core/metrics/targets.ts TargetsConfig). */
  metricTargets: 'METRIC_TARGETS',
  /** The product's bus, where the functions publish Survey Answered. */
  eventBusName: 'EVENT_BUS_NAME',
  /** Where detractor alerts go (the customer-experience team); empty: no alert email, the event only. */
  cxAddress: 'CX_ADDRESS',
  /** How long a function keeps the campaign rules before reading the table again (an applied change waits this long). */
  campaignCacheSeconds: 'CAMPAIGN_CACHE_SECONDS',
} as const;

export const DEFAULT_CAMPAIGN_CACHE_SECONDS = 60;

/**
 * Sparse, on every table whose items move metric counts by `pendingAppend` (adapters/dynamodb-pending.ts): an item is
 * in it only while it has pending counts (`countsPending` = "1", `countsPendingSince` = the first pending write's
 * time), so the recovery sweep (settle-survey-responses) reads exactly the entities whose settler may have crashed.
 * Responses are not in it: their own pending index and settler cover their counts. Keys only (`include: []`): the
 * sweep reads only the table key, and a lease or trim of a listed item writes nothing to the index.
 */
const PENDING_COUNTS_INDEX = { name: 'byPendingCounts', partitionKey: 'countsPending', sortKey: 'countsPendingSince', include: [] } as const;

/** Table key schemas (shared by CDK, the local stack's table creation, and the adapters). */
export const TABLES = {
  customers: { partitionKey: 'customerId', pendingCountsIndex: PENDING_COUNTS_INDEX },
  touchpoints: {
    partitionKey: 'touchpointId',
    /** Sparse: only PENDING touchpoints carry dueShard/dueKey, so the index holds exactly what may become due. */
    dueIndex: { name: 'byDue', partitionKey: 'dueShard', sortKey: 'dueKey', include: ['kind', 'generation', 'dueAt', 'status'] },
    customerIndex: { name: 'byCustomer', partitionKey: 'customerId', sortKey: 'dueAt' },
    pendingCountsIndex: PENDING_COUNTS_INDEX,
    ttlAttribute: 'expiresAt',
  },
  campaigns: { partitionKey: 'campaignId', sortKey: 'version' },
  /** Contracts, and each renewal campaign's sweep cursor (`#sweep-cursor#<campaignId>`). See adapters/dynamodb-contracts.ts. */
  contracts: {
    partitionKey: 'contractId',
    /**
     * Sparse: only running contracts (ACTIVE, RENEWED) carry endShard/endKey (`<start of the end date in the customer's
     * zone, UTC>#<contractId>`), so a sweep reads exactly the contracts whose reminder day it plans.
     */
    endIndex: {
      name: 'byEnd',
      partitionKey: 'endShard',
      sortKey: 'endKey',
      include: ['customerId', 'plan', 'value', 'currency', 'startDate', 'endDate', 'autoRenew', 'timeZone', 'endsAt', 'status', 'version'],
    },
    pendingCountsIndex: PENDING_COUNTS_INDEX,
  },
  /** One survey answer per survey send (surveyId = the touchpoint id). See adapters/dynamodb-responses.ts. */
  responses: {
    partitionKey: 'surveyId',
    /** Sparse: only a response with work to settle carries `settlePending`, so the sweep reads exactly those. */
    pendingIndex: { name: 'byPendingSettlement', partitionKey: 'settlePending', sortKey: 'answeredAt', include: ['revision'] },
  },
  /** Answer counts per campaign × (UTC day of the first answer, survey kind): bucket = `<YYYY-MM-DD>#<kind>`. */
  surveyAggregates: { partitionKey: 'campaignId', sortKey: 'bucket' },
  /**
   * Per-day metric records (core/metrics/model.ts, counters.ts): `series` = `sends#<campaignId>` (record = `<day>#<kind>`),
   * `outcomes` or `purchases` (record = `<day>`), and `campaigns` (record = a survey campaign id: the directory the
   * views list campaigns from). Counts are top-level numbers; in-flight markers are `inflight#<change id>`.
   */
  metrics: { partitionKey: 'series', sortKey: 'record' },
} as const;

export const DEFAULT_DISPATCH_SHARDS = 8;

/**
 * The EventBridge `detail` pattern of a rule's {@link EventRuleSpec.detailExists} paths and
 * {@link EventRuleSpec.detailAnyOf} filters (undefined when it has neither).
 */
export function detailPattern(spec: Pick<EventRuleSpec, 'detailExists' | 'detailAnyOf'>): Record<string, unknown> | undefined {
  if (!spec.detailExists?.length && !spec.detailAnyOf?.length) return undefined;
  const pattern: Record<string, unknown> = {};
  for (const path of spec.detailExists ?? []) {
    const keys = path.split('.');
    let node = pattern;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[keys.at(-1) as string] = [{ exists: true }];
  }
  const anyOf = (spec.detailAnyOf ?? []).map((fields) =>
    Object.fromEntries(Object.entries(fields).map(([field, match]) => [field, typeof match === 'string' ? [match] : [{ numeric: ['<=', match.atMost] }]])),
  );
  if (anyOf.length === 1) Object.assign(pattern, anyOf[0]);
  else if (anyOf.length > 1) pattern.$or = anyOf;
  return pattern;
}

/** Whether an event's detail matches a rule's detail filters: every {@link EventRuleSpec.detailExists} path, and one of its {@link EventRuleSpec.detailAnyOf}. */
export function matchesDetail(spec: Pick<EventRuleSpec, 'detailExists' | 'detailAnyOf'>, detail: Record<string, unknown>): boolean {
  const paths = (spec.detailExists ?? []).every((path) => {
    let node: unknown = detail;
    for (const key of path.split('.')) {
      if (node === null || typeof node !== 'object' || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  });
  const fits = (fields: Readonly<Record<string, DetailMatch>>) =>
    Object.entries(fields).every(([field, match]) => {
      const value = detail[field];
      return typeof match === 'string' ? value === match : typeof value === 'number' && value <= match.atMost;
    });
  return paths && (!spec.detailAnyOf?.length || spec.detailAnyOf.some(fits));
}
