import type { TracingMode } from './observability.ts';
import { Duration } from 'aws-cdk-lib';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { ENV, FUNCTION_NAMES, WORKFLOWS, type FunctionName } from '../../core/topology.ts';
import { DASHBOARD_ASSETS } from '../../functions/metrics-api/assets.ts';
import { acknowledgeNag } from '../nag.ts';
import { pascalCase } from '../naming.ts';
import { type OutreachTables, type TableKey, indexNamesOf } from './outreach-data.ts';
import { OutreachFunction, type TableAccess } from './outreach-function.ts';
import type { OutreachSending } from './outreach-sending.ts';

/** Plain settings a function may receive, by ENV key. */
export type SettingName = 'dispatchShards' | 'sendRateShare' | 'maxSendsPerSecond' | 'senderAddress' | 'configurationSet' | 'publicBaseUrl' | 'campaignCacheSeconds' | 'cxAddress' | 'metricTargets';

export interface FunctionWiring {
  readonly tables: Partial<Record<TableKey, TableAccess>>;
  /** Reads the link-signing secret (signs or verifies the tokens in email links). */
  readonly linkSecret?: boolean;
  /** Reads the survey key ring (signs or verifies one-click survey links). */
  readonly surveyKeyring?: boolean;
  /** Reads the metrics API token (the bearer token of GET /metrics). */
  readonly metricsToken?: boolean;
  /** Publishes events on the product's bus (gets EVENT_BUS_NAME and events:PutEvents on that bus). */
  readonly publishesEvents?: boolean;
  /** Starts the touchpoint workflows (gets WORKFLOW_ARNS and states:StartExecution on each). */
  readonly startsWorkflows?: boolean;
  /** Sends email through SES (ses:SendEmail from the sender address, on its identities and the configuration set). */
  readonly sendsEmail?: boolean;
  /** Reads the account's SES sending quota and rate (ses:GetAccount, which has no resource-level permission). */
  readonly readsSendQuota?: boolean;
  readonly settings?: readonly SettingName[];
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 256 (MB) */
  readonly memorySize?: number;
  /**
   * Invoked only by workflows (and AWS service events, which carry no trace): traced inside its caller's sampled
   * trace only (PassThrough), never as a trace of its own.
   */
  readonly tracedUpstreamOnly?: boolean;
  /** Files the handler reads at runtime, copied next to its bundle: name in the bundle → path from the project root. */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

/**
 * Least privilege, per function, as data: every table grant, secret grant and environment variable is derived from
 * this table and nothing else, so review happens here. It mirrors what each handler parses from its environment.
 */
export const FUNCTION_WIRING: Readonly<Record<FunctionName, FunctionWiring>> = {
  'ingest-event': {
    // metrics: purchase cohorts (repeat-purchase rate).
    tables: { customers: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', metrics: 'readWrite' },
    settings: ['dispatchShards', 'campaignCacheSeconds'],
  },
  'dispatch-due': {
    tables: { touchpoints: 'readWrite' },
    startsWorkflows: true,
    // The send-rate budget: a share of the account's maximum send rate.
    readsSendQuota: true,
    settings: ['dispatchShards', 'sendRateShare', 'maxSendsPerSecond'],
    // Sends for up to 57 s of each minute (its handler's window), then measures the backlog: the runs of consecutive
    // minutes barely overlap, and the budget is used 95 % of the time (a 55 s timeout left 50 s: 83 %).
    timeout: Duration.seconds(65),
    // One full vCPU (Lambda gives CPU in proportion to memory: 1,769 MB is one): at a large account's 1,000 sends/s a
    // run makes 1,000 conditional writes and 1,000 StartExecution calls a second, which 256 MB (a sixth of a vCPU)
    // cannot sign and parse. An idle run lasts tens of milliseconds, so the minute schedule costs cents a month more.
    memorySize: 1769,
  },
  'check-eligibility': {
    // responses: a survey reminder goes out only while the survey has no answer; contracts: a renewal reminder only
    // while its contract still ends on the reminded date.
    tables: { customers: 'read', touchpoints: 'read', campaigns: 'read', responses: 'read', contracts: 'read' },
    settings: ['dispatchShards', 'campaignCacheSeconds'],
    tracedUpstreamOnly: true,
  },
  'render-email': {
    tables: { campaigns: 'read' },
    linkSecret: true,
    surveyKeyring: true,
    settings: ['senderAddress', 'configurationSet', 'publicBaseUrl', 'campaignCacheSeconds'],
    tracedUpstreamOnly: true,
  },
  'send-email': {
    // touchpoints: the claim of one send attempt (DISPATCHED → SENDING).
    tables: { touchpoints: 'readWrite' },
    sendsEmail: true,
    settings: ['dispatchShards'],
    tracedUpstreamOnly: true,
  },
  'record-outcome': {
    // metrics: surveys sent (the response rate's denominator).
    tables: { touchpoints: 'readWrite', metrics: 'readWrite' },
    settings: ['dispatchShards'],
    tracedUpstreamOnly: true,
  },
  unsubscribe: {
    tables: { customers: 'readWrite', touchpoints: 'readWrite' },
    linkSecret: true,
    settings: ['dispatchShards'],
    timeout: Duration.seconds(10),
  },
  'survey-answer': {
    // touchpoints: the survey's facts, and cancelling its reminder once answered.
    tables: { touchpoints: 'readWrite', campaigns: 'read', responses: 'readWrite', surveyAggregates: 'readWrite', metrics: 'readWrite' },
    surveyKeyring: true,
    publishesEvents: true,
    settings: ['dispatchShards', 'campaignCacheSeconds'],
    timeout: Duration.seconds(10),
  },
  'settle-responses': {
    // touchpoints, contracts, customers: the metric counts their settlers left pending (the byPendingCounts indexes).
    tables: {
      responses: 'readWrite',
      surveyAggregates: 'readWrite',
      metrics: 'readWrite',
      touchpoints: 'readWrite',
      contracts: 'readWrite',
      customers: 'readWrite',
    },
    publishesEvents: true,
    timeout: Duration.seconds(60),
  },
  'contract-events': {
    // customers: a started contract records the customer's profile; touchpoints: its reminders.
    // metrics: contract outcomes (renewal, churn, retention by NPS segment).
    tables: { contracts: 'readWrite', customers: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', metrics: 'readWrite' },
    settings: ['dispatchShards', 'campaignCacheSeconds'],
  },
  'renewal-sweep': {
    // customers: the NPS segment of a churned customer; metrics: contract outcomes.
    tables: { contracts: 'readWrite', touchpoints: 'readWrite', campaigns: 'read', customers: 'read', metrics: 'readWrite' },
    settings: ['dispatchShards', 'campaignCacheSeconds'],
    // Pages through the day's contracts; well inside Scheduler's retry window.
    timeout: Duration.minutes(5),
  },
  'detractor-alert': {
    tables: { responses: 'read', customers: 'read', touchpoints: 'read' },
    settings: ['senderAddress', 'configurationSet', 'cxAddress'],
    tracedUpstreamOnly: true,
  },
  'metrics-api': {
    // Read-only: the per-day records, never responses, contracts or customers.
    tables: { metrics: 'read', surveyAggregates: 'read' },
    metricsToken: true,
    settings: ['metricTargets'],
    // The dashboard page inlines chart.js and its own script and styles.
    bundledFiles: DASHBOARD_ASSETS,
    timeout: Duration.seconds(10),
  },
};

export type OutreachFunctions = Readonly<Record<FunctionName, OutreachFunction>>;

/** One OutreachFunction per FUNCTION_NAMES entry, unwired. */
export function createOutreachFunctions(scope: Construct, functionsDir?: string, tracing?: TracingMode): OutreachFunctions {
  return Object.fromEntries(
    FUNCTION_NAMES.map((name) => {
      const { timeout, memorySize, tracedUpstreamOnly, bundledFiles } = FUNCTION_WIRING[name];
      const props = {
        name,
        ...(functionsDir ? { functionsDir } : {}),
        ...(timeout ? { timeout } : {}),
        ...(memorySize ? { memorySize } : {}),
        ...(tracedUpstreamOnly ? { tracedUpstreamOnly } : {}),
        ...(bundledFiles ? { bundledFiles } : {}),
        ...(tracing ? { tracing } : {}),
      };
      return [name, new OutreachFunction(scope, pascalCase(name), props)];
    }),
  ) as Record<FunctionName, OutreachFunction>;
}

export interface FunctionResources {
  readonly tables: OutreachTables;
  readonly linkSecret: ISecret;
  readonly surveyKeyring: ISecret;
  readonly metricsToken: ISecret;
  readonly eventBus: IEventBus;
  readonly sending: OutreachSending;
  /** Every state machine; functions that start workflows get the touchpoint kinds' (WORKFLOWS). */
  readonly workflows: Readonly<Record<string, IStateMachine>>;
  readonly settings: Readonly<Record<SettingName, string>>;
}

const SEND_QUOTA_REASON =
  "ses:GetAccount (the account's sending quota and maximum send rate, which the send-rate budget is a share of) supports no resource-level permission.";

const tableEnv = (key: TableKey) => ENV[`${key}Table` as const];

/** Applies FUNCTION_WIRING: environment variables and IAM grants together. */
export function wireOutreachFunctions(functions: OutreachFunctions, resources: FunctionResources): void {
  for (const name of FUNCTION_NAMES) {
    const fn = functions[name];
    const wiring = FUNCTION_WIRING[name];
    for (const [key, access] of Object.entries(wiring.tables) as Array<[TableKey, TableAccess]>) {
      fn.bindTable(tableEnv(key), resources.tables[key], access, indexNamesOf(key));
    }
    if (wiring.linkSecret) fn.bindSecret(ENV.linkSecretArn, resources.linkSecret);
    if (wiring.surveyKeyring) fn.bindSecret(ENV.surveyKeyringArn, resources.surveyKeyring);
    if (wiring.metricsToken) fn.bindSecret(ENV.metricsTokenArn, resources.metricsToken);
    if (wiring.publishesEvents) {
      fn.bindValue(ENV.eventBusName, resources.eventBus.eventBusName);
      resources.eventBus.grantPutEventsTo(fn);
    }
    if (wiring.sendsEmail) resources.sending.grantSendEmail(fn);
    if (wiring.readsSendQuota) {
      resources.sending.grantReadSendQuota(fn);
      acknowledgeNag(fn.role!, 'AwsSolutions-IAM5[Resource::*]', SEND_QUOTA_REASON);
    }
    if (wiring.startsWorkflows) {
      fn.bindWorkflows(Object.fromEntries(Object.keys(WORKFLOWS).map((kind) => [kind, resources.workflows[kind]!])));
    }
    for (const setting of wiring.settings ?? []) fn.bindValue(ENV[setting], resources.settings[setting]);
  }
}
