/**
 * The wiring of the product, as plain data shared by both runtimes: the CDK stacks build AWS resources from it and
 * the embedded local stack builds its bus rules, schedules, HTTP routes and workflow task dispatch from it. Keeping
 * it in one place is what makes "the same system" locally and in AWS true rather than hoped for.
 */

/** Every Lambda function of the product. The name is the folder under functions/ (functions/<name>/handler.ts). */
export const FUNCTION_NAMES = [
  'ingest-event',
  'dispatch-due',
  'check-eligibility',
  'render-email',
  'record-outcome',
  'unsubscribe',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

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
  target: FunctionName;
}

export const EVENT_RULES: readonly EventRuleSpec[] = [
  {
    name: 'commerce-events',
    description: 'Purchases, refunds and cancellations from the commerce system go to the ingest function',
    bus: 'product',
    detailTypes: [DETAIL_TYPES.purchaseCompleted, DETAIL_TYPES.orderRefunded, DETAIL_TYPES.orderCancelled],
    target: 'ingest-event',
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
];

export interface ScheduleSpec {
  name: string;
  description: string;
  /** An EventBridge Scheduler expression: `rate(...)` or `cron(...)` (evaluated in UTC). */
  expression: string;
  target: FunctionName;
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
];

/** The workflows under workflows/<name>.asl.json, by the touchpoint kind each one sends. */
export const WORKFLOWS = {
  'check-in': 'check-in',
} as const;
export type WorkflowName = keyof typeof WORKFLOWS;

/**
 * `${Placeholder}` → function substituted into the workflow definitions. In AWS the value is the function ARN; the
 * local stack substitutes an ARN of the same shape and dispatches the Task to the in-process handler.
 */
export const WORKFLOW_FUNCTION_PLACEHOLDERS: Readonly<Record<string, FunctionName>> = {
  CheckEligibilityFunctionArn: 'check-eligibility',
  RenderEmailFunctionArn: 'render-email',
  RecordOutcomeFunctionArn: 'record-outcome',
};

/** Environment variables, by name. Every handler parses the ones it needs when its module loads. */
export const ENV = {
  customersTable: 'CUSTOMERS_TABLE',
  touchpointsTable: 'TOUCHPOINTS_TABLE',
  campaignsTable: 'CAMPAIGNS_TABLE',
  /** JSON object: touchpoint kind → state machine ARN. */
  workflowArns: 'WORKFLOW_ARNS',
  dispatchShards: 'DISPATCH_SHARDS',
  senderAddress: 'SENDER_ADDRESS',
  configurationSet: 'SES_CONFIGURATION_SET',
  publicBaseUrl: 'PUBLIC_BASE_URL',
  linkSecretArn: 'LINK_SECRET_ARN',
  /** How long a function keeps the campaign rules before reading the table again (an applied change waits this long). */
  campaignCacheSeconds: 'CAMPAIGN_CACHE_SECONDS',
} as const;

export const DEFAULT_CAMPAIGN_CACHE_SECONDS = 60;

/** Table key schemas (shared by CDK, the local stack's table creation, and the adapters). */
export const TABLES = {
  customers: { partitionKey: 'customerId' },
  touchpoints: {
    partitionKey: 'touchpointId',
    /** Sparse: only PENDING touchpoints carry dueShard/dueKey, so the index holds exactly what may become due. */
    dueIndex: { name: 'byDue', partitionKey: 'dueShard', sortKey: 'dueKey', include: ['kind', 'generation', 'dueAt', 'status'] },
    customerIndex: { name: 'byCustomer', partitionKey: 'customerId', sortKey: 'dueAt' },
    ttlAttribute: 'expiresAt',
  },
  campaigns: { partitionKey: 'campaignId', sortKey: 'version' },
} as const;

export const DEFAULT_DISPATCH_SHARDS = 8;
